"""Application services: the async shell around the pure core (trading, market data) and the composition of the application."""  # noqa: E501 -- the one line, kept whole
