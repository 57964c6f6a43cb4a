from mend.cli import main

main()
