from lit_digits.cli import main

main()
