"""The pure core: commands, the state and its fold, the sequencer (see `sequencer.py`)."""
