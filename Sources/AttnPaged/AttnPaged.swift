// AttnPaged: placeholder until its issue lands.
enum AttnPagedModule {}
