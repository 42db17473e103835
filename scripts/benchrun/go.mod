module minibox.dev/benchrun

go 1.26
