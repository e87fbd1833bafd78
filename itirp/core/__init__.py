"""The application core: the journal that mints events, and (with the trading core) the sequencer."""
