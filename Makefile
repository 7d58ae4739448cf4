# StreamSQL — the targets a newcomer guesses.
#   make run    build and start the server with the embedded Kafka broker
#   make test   unit tests, then every end-to-end suite against the embedded
#               broker and against a real Apache Kafka fetched from Maven Central
#   make bench  the clickstream benchmark (see tests/bench)

GO       ?= go
BIN      := bin/streamsql
PKGS     := ./...
BROKER   := tests/kafka/broker.sh
RUNFLAGS ?=

.PHONY: all build run test test-unit test-embedded test-kafka bench soak lint fmt vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/streamsql

run: build
	./$(BIN) $(RUNFLAGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet $(PKGS)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The whole suite, twice: against the embedded broker, then against a real
# Kafka broker that this target starts and stops.
test: lint test-unit test-kafka

# Unit tests and end-to-end scripts against the embedded broker.
test-unit:
	$(GO) test -count=1 -timeout 15m $(PKGS)

# Kafka-facing suites again against real Apache Kafka (KRaft, single node).
test-kafka:
	@addr=$$($(BROKER) start) || { echo "make test: could not start the real Kafka broker (needs Java 17+ and Maven; see README)"; exit 1; }; \
	echo "real Kafka broker at $$addr"; \
	STREAMSQL_TEST_BROKERS=$$addr $(GO) test -p 1 -count=1 -timeout 20m ./kafka/ ./tests/...; rc=$$?; \
	$(BROKER) stop; exit $$rc

bench:
	$(GO) run ./tests/bench $(BENCHFLAGS)

# A longer recovery run than make test's: 3M events, 60 SIGKILLs, against
# the embedded broker (a separate process) and real Kafka.
soak:
	STREAMSQL_CRASH_EVENTS=3000000 STREAMSQL_CRASH_KILLS=60 $(GO) test -count=1 -timeout 60m -run 'Crash' -v ./tests/e2e/
	@addr=$$($(BROKER) start) || exit 1; \
	STREAMSQL_CRASH_EVENTS=3000000 STREAMSQL_CRASH_KILLS=60 STREAMSQL_TEST_BROKERS=$$addr $(GO) test -count=1 -timeout 60m -run 'Crash' -v ./tests/e2e/; rc=$$?; \
	$(BROKER) stop; exit $$rc

clean:
	rm -rf bin streamsql-data
