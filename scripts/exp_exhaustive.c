// Exhaustive check of the vectorised Float exp: every float in [-87.3, 0) against
// libm exp in double. Run: scripts/check-exp-exhaustive.sh (about a minute).
#include <stdio.h>
#include <math.h>
#include <string.h>
#include "vector_math.h"
int main(){ static float buf[4096], in[4096]; float x=-87.3f; double worst=0; float wx=0;
 while (x<0){ int n=0; while(n<4096 && x<0){ in[n++]=x; unsigned b; memcpy(&b,&x,4); b-=1; memcpy(&x,&b,4);} memcpy(buf,in,n*4);
  attnbound_exp_shifted_sum_f32(buf,n,0.f); for(int i=0;i<n;i++){ double e=exp((double)in[i]); double r=fabs(buf[i]-e)/e; if(r>worst){worst=r;wx=in[i];}}}
 printf("worst rel %.3e = 2^%.2f at x=%g (ulps ~ %.2f)\n", worst, log2(worst), wx, worst/ldexp(1,-24)); }
