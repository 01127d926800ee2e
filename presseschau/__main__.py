from presseschau.cli import main

main()
