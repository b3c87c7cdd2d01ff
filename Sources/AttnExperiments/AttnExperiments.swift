// AttnExperiments: placeholder until its issue lands.
enum AttnExperimentsModule {}
