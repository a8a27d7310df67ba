from gitops_health.cli import main

raise SystemExit(main())
