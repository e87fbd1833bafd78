from itirp.cli import main

raise SystemExit(main())
