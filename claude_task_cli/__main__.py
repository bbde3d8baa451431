from claude_task_cli.cli.app import main

main()
