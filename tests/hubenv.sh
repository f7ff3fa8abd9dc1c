# kruispunt tests - a whole network for an end-to-end test: a private
# MariaDB with the sample network's directory (each institution's endpoint
# moved to a free port of 127.0.0.1, so tests can run side by side),
# certificates made for the run, kruispunt-institution processes and the hub.
#
# Source after tests/lib.sh. Then:
#   hubenv_setup                  database, PKI ($P), directory, certificates
#   hubenv_network                the same without starting a database
#   hubenv_port ID                the port of institution ID
#   hubenv_institution ID         start kruispunt-institution ID (data file
#                                 $T/ID.data, empty unless the test wrote one;
#                                 mutation log $T/ID.mutations; log $T/ID.log)
#   hubenv_institution_stop ID [SIGNAL]
#   hubenv_hub [CONF_LINES]       start kruispuntd (HUBENV_WORKERS workers, 4
#                                 by default; extra configuration lines
#                                 appended; HUBENV_TLS replaces the [tls]
#                                 section's "enabled = no"); sets HUB_PID,
#                                 HUB_URL, HUB_PORT
#   hubenv_hub_stop [SIGNAL]
#   hubenv_send ID ARGS...        kruispunt send ... signed as institution ID
#   hubenv_sql SQL                run SQL as root on the test database
# Every process started is stopped when the test exits (PIDs, trap).
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/mariadb.sh"

HUBENV_B=$top_builddir
HUBENV_S=$top_srcdir/etc/sample
P=$T/pki
HUB_PID=
hubenv_pids=""

hubenv_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

hubenv_stop_all() {
	for p in $hubenv_pids $HUB_PID; do kill "$p" 2>/dev/null; done
	for p in $hubenv_pids $HUB_PID; do wait "$p" 2>/dev/null; done
	mariadb_stop
}

hubenv_setup() {
	mariadb_start
	kp_cleanup_hooks="hubenv_stop_all"
	trap 'kp_cleanup' EXIT
	hubenv_network
}

# The PKI, the endpoints on free ports and the directory, in the database
# that $KP_TEST_CONF names (tests/galera-env.sh uses it for a cluster).
hubenv_network() {
	export KRUISPUNT_DATA_DIR=$top_srcdir
	"$top_srcdir/tests/make-network-pki" "$P" "$HUBENV_S/institutions.csv"
	# the endpoints, on free ports
	: >"$T/ports"
	{ head -1 "$HUBENV_S/institutions.csv"
	  sed 1d "$HUBENV_S/institutions.csv" | while IFS= read -r line; do
		id=${line%%,*}
		port=$(hubenv_free_port)
		echo "$id $port" >>"$T/ports"
		printf '%s\n' "$line" | sed "s|http://127.0.0.1:[0-9]*/|http://127.0.0.1:$port/|"
	  done; } >"$T/institutions.csv"
	K="$HUBENV_B/kruispunt -c $KP_TEST_CONF"
	$K directory migrate >/dev/null || exit 99
	for t in sectors institutions qualities services mutation_types \
	    person_files authorizations availability subscriptions; do
		f=$HUBENV_S/$t.csv
		[ "$t" = institutions ] && f=$T/institutions.csv
		$K directory import $t "$f" >/dev/null || exit 99
	done
	for id in $(cut -d' ' -f1 "$T/ports"); do
		$K directory add-cert "$id" "$P/$id.crt" >/dev/null || exit 99
	done
}

hubenv_port() {
	sed -n "s/^$1 //p" "$T/ports"
}

hubenv_wait_http() { # URL
	i=0
	until curl -s -o /dev/null "$1"; do
		i=$((i + 1)); [ $i -gt 150 ] && return 1; sleep 0.1
	done
}

hubenv_institution() {
	[ -f "$T/$1.data" ] || printf '<Data xmlns="urn:kruispunt:institution-data:1"/>\n' >"$T/$1.data"
	cat >"$T/$1.conf" <<CONF
[institution]
id = $1
port = $(hubenv_port "$1")
data = $1.data
mutation_log = $1.mutations
key = pki/$1.key
certificate = pki/$1.crt
ca_file = pki/ca.crt
hub_certificate = pki/hub.crt
CONF
	"$HUBENV_B/kruispunt-institution" -d -c "$T/$1.conf" 2>>"$T/$1.log" &
	eval "hubenv_inst_$1=$!"
	hubenv_pids="$hubenv_pids $!"
	hubenv_wait_http "http://127.0.0.1:$(hubenv_port "$1")/health"
}

hubenv_institution_stop() {
	eval "p=\$hubenv_inst_$1"
	kill "-${2:-TERM}" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

hubenv_hub() {
	HUB_PORT=${HUB_PORT:-$(hubenv_free_port)}
	cat >"$T/hub.conf" <<CONF
[hub]
node = test-hub
port = $HUB_PORT
workers = ${HUBENV_WORKERS:-4}
[tls]
${HUBENV_TLS:-enabled = no}
[signing]
key = pki/hub.key
certificate = pki/hub.crt
[trust]
ca_file = pki/ca.crt
crl_file = pki/crl.pem
[database]
socket = $KP_TEST_DB_SOCKET
user = $KP_TEST_DB_USER
password_file = $KP_TEST_DB_DIR/db-password
name = $KP_TEST_DB_NAME
CONF
	[ -n "${1:-}" ] && printf '%s\n' "$1" >>"$T/hub.conf"
	"$HUBENV_B/kruispuntd" -d -c "$T/hub.conf" 2>>"$T/hub.log" &
	HUB_PID=$!
	if [ -n "${HUBENV_TLS:-}" ]; then
		HUB_URL=https://127.0.0.1:$HUB_PORT/kruispunt
		i=0
		until [ -s "$T/hub.log" ] && grep -q "listening on" "$T/hub.log"; do
			i=$((i + 1)); [ $i -gt 150 ] && { cat "$T/hub.log"; exit 99; }
			sleep 0.1
		done
		return 0
	fi
	HUB_URL=http://127.0.0.1:$HUB_PORT/kruispunt
	hubenv_wait_http "http://127.0.0.1:$HUB_PORT/health" || {
		cat "$T/hub.log"; exit 99; }
}

hubenv_hub_stop() {
	[ -n "$HUB_PID" ] || return 0
	kill "-${1:-TERM}" "$HUB_PID" 2>/dev/null
	wait "$HUB_PID" 2>/dev/null
	HUB_PID=
}

hubenv_send() {
	id=$1; shift
	"$HUBENV_B/kruispunt" send "$@" --key "$P/$id.key" --cert "$P/$id.crt" \
	    --ca "$P/ca.crt" --hub-cert "$P/hub.crt" "$HUB_URL"
}

hubenv_sql() {
	"$MARIADB_CLIENT" --no-defaults --socket="$KP_TEST_DB_SOCKET" -uroot -N \
	    "$KP_TEST_DB_NAME" -e "$1"
}
