from llmspell.gateway.cli import main

raise SystemExit(main())
