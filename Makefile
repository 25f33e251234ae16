# keyfleet.encryption: `make demo` runs a real migration in the lab, `make test` runs every test.
# Both install what they need (apt packages, .venv, the lab image with Consul); run as root.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
BUILD := $(CURDIR)/.build
COLL := $(BUILD)/coll/ansible_collections/keyfleet/encryption
SANITY := $(BUILD)/sanity/ansible_collections/keyfleet/encryption
SCENARIOS ?= $(notdir $(patsubst %/,%,$(wildcard molecule/*/)))

export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := /var/tmp/keyfleet-lab/containers.conf
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/coll
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
# The lab's podman connection with pipelining (tests/lab/connection_plugins): for the demo and the
# benchmarks, which run playbooks against molecule's inventories outside molecule.
export ANSIBLE_CONNECTION_PLUGINS := $(CURDIR)/tests/lab/connection_plugins
export ANSIBLE_PIPELINING := True

.PHONY: help deps lab collection lint sanity units molecule test demo bench bench-fleet bench-client-rpc bench-ca-rotate bench-auto-encrypt bench-aspera clean

help:
	@echo "make demo   build the lab, take a running Consul cluster to gossip encryption and TLS (3 restarts)"
	@echo "make test   ansible-lint, ansible-test sanity + units, every molecule scenario (tests/lab/test.sh)"
	@echo "make bench  measure the running-cluster migrations (docs/consul-gossip.md, docs/consul-tls.md)"
	@echo "make bench-fleet  the Consul upshift at fleet scale, an earlier commit against this one (docs/consul-benchmark.md)"
	@echo "make bench-client-rpc  failed client calls during the upshift, by restart window (docs/consul-benchmark.md)"
	@echo "make bench-ca-rotate  a Consul CA rotation with HTTPS watchers on every agent: restarts, failed calls, time per step (docs/consul-benchmark.md)"
	@echo "make bench-auto-encrypt  the TLS upshift on 3 servers + 12 clients, client certificates per agent against auto_encrypt: restarts, failed calls, time per stage"
	@echo "make bench-aspera  keystores of 1,000 users, one call against a loop (docs/aspera.md)"

deps:
	tests/lab/lab.sh deps

lab: deps
	tests/lab/lab.sh image

# The collection where Ansible looks for keyfleet.encryption: a link to this checkout.
collection:
	mkdir -p $(dir $(COLL))
	ln -sfn $(CURDIR) $(COLL)

lint: deps collection
	ansible-lint --profile production

# ansible-test wants a real ansible_collections tree and a get-pip it cannot download here.
sanity units: deps
	tests/lab/ansible-test.sh $@

molecule: lab collection
	set -e; for s in $(SCENARIOS); do echo "=== molecule scenario $$s ($$(date -u +%T))"; molecule test -s $$s; done; echo "=== molecule done ($$(date -u +%T))"

# Static checks and the scenarios that time nothing side by side, then the timed ones alone.
test: lab collection
	tests/lab/test.sh

demo: lab collection
	tests/lab/demo.sh

bench: lab collection
	tests/lab/bench.sh

bench-fleet: lab collection
	tests/lab/bench-fleet.sh

bench-client-rpc: lab collection
	tests/lab/bench-client-rpc.sh

bench-ca-rotate: lab collection
	tests/lab/bench-ca-rotate.sh

bench-auto-encrypt: lab collection
	tests/lab/bench-auto-encrypt.sh

bench-aspera: lab collection
	tests/lab/bench-aspera.sh

clean:
	rm -rf $(BUILD)
