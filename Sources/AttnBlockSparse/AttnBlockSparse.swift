// AttnBlockSparse: placeholder until its issue lands.
enum AttnBlockSparseModule {}
