from skadapt.cli import main

raise SystemExit(main())
