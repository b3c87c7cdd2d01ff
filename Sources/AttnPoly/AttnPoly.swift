// AttnPoly: placeholder until its issue lands.
enum AttnPolyModule {}
