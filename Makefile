# TallyMarks — developer entry points. Run `make help` for the list.

GO              ?= go
GOLANGCI_LINT   := bin/golangci-lint
GOLANGCI_VER    := v2.15.0
BENCHSTAT       := bin/benchstat
# Packages whose tests talk to Kafka; `make test` runs them a second time on
# the in-process fake when a real broker was used the first time.
KAFKA_PKGS      := ./tests/... ./connectors/... ./processors/catalog/...

.PHONY: help dev build test test-kfake lint bench services-up services-down services-status up down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

dev: ## run everything in one process (in-process Kafka and schema registry)
	$(GO) run ./cmd/tallymarks dev

build: ## build bin/tallymarks
	$(GO) build -o bin/tallymarks ./cmd/tallymarks

test: ## run every test; against real services when TALLYMARKS_TEST_* are set
	$(GO) test -count=1 -timeout 15m ./...
	@if [ -n "$$TALLYMARKS_TEST_KAFKA" ] && [ "$$TALLYMARKS_TEST_KAFKA" != kfake ]; then \
		echo "== the Kafka tests again, on the in-process kfake broker"; \
		TALLYMARKS_TEST_KAFKA=kfake $(GO) test -count=1 -timeout 10m $(KAFKA_PKGS); \
	fi

test-kfake: ## run the Kafka tests on the in-process kfake broker only
	TALLYMARKS_TEST_KAFKA=kfake $(GO) test -count=1 -timeout 10m $(KAFKA_PKGS)

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)

lint: $(GOLANGCI_LINT) ## run golangci-lint with .golangci.yml
	$(GOLANGCI_LINT) run ./...

$(BENCHSTAT):
	GOBIN=$(CURDIR)/bin $(GO) install golang.org/x/perf/cmd/benchstat@latest

bench: $(BENCHSTAT) ## run the benchmarks 6 times and summarise them with benchstat
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bin/bench.txt
	$(BENCHSTAT) bin/bench.txt

services-up: ## start real Kafka 4.4.0 and ClickHouse without Docker (deploy/services.sh)
	deploy/services.sh up

services-down: ## stop them
	deploy/services.sh down

services-status: ## show whether they run
	deploy/services.sh status

up: ## run the stack with docker compose
	docker compose up -d --build

down: ## stop the docker compose stack
	docker compose down
