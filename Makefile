# Shortcuts; the scripts do the work (they also run where make is not installed).
.PHONY: run test demo bench
run:
	./scripts/run
test:
	./scripts/test
demo:
	./scripts/run --config examples/demo/monitor.yaml --once
bench:
	./scripts/bench
