# Thin aliases for ./ascep, for those who reach for make.
.PHONY: run test bench lint
run:
	./ascep run
test:
	./ascep test
bench:
	./ascep bench all
lint:
	./ascep lint
