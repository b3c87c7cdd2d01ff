// AttnCertified: placeholder until its issue lands.
enum AttnCertifiedModule {}
