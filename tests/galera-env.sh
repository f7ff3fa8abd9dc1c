# kruispunt tests - the whole scaled-out system on 127.0.0.1: a 3-node
# MariaDB Galera cluster (tests/galera.sh), HAProxy in front of it and of
# the hub nodes, the sample network's directory and certificates
# (tests/hubenv.sh), the sample institutions and several kruispuntd nodes.
# Used by scripts/cluster, tests/cluster*.test and bench/run-cluster.
#
# Set T (a directory for the files; tests/lib.sh does) and source this
# file; then:
#   galenv_setup [HUBS]     the cluster, HAProxy, the directory; HUBS (2)
#                           hub nodes are configured, not started. Sets
#     KP_TEST_CONF          an admin kruispunt.conf (database through HAProxy)
#     GALENV_URL            the hub service behind HAProxy (.../kruispunt)
#     GALENV_HUB_PORT_i     hub node i's own port
#     GALENV_DB_PORT_i      HAProxy's database front for hub node i: Galera
#                           node ((i-1) mod 3)+1 first, the others as backups
#     GALENV_STATS          HAProxy's statistics (CSV: $GALENV_STATS;csv)
#   galenv_hub I [LINES]    start hub node I (node id hub-I; LINES are
#                           appended to its configuration); waits for /health
#   galenv_hub_stop I [SIGNAL]
#   galenv_institutions     start every sample institution (hubenv_institution)
#   galenv_sql SQL          run SQL as root on the first Synced Galera node
#   galenv_backend NAME SERVER  HAProxy's view of a server: UP, DOWN, ...
#   galenv_wait_backend NAME SERVER STATE [SECONDS]
#   galenv_stop             stop everything started here (by PID), remove
#                           the cluster's data
#   galenv_save FILE        write the state (ports, PIDs) as shell variables,
#                           for scripts/cluster stop|status
# galenv_setup installs no trap: tests set kp_cleanup_hooks=galenv_stop.
# GALENV_LEASE (5s), GALENV_WORKERS (4), GALENV_NOTIFY (2) tune the hubs;
# GALENV_SPREAD=0 sends every hub node to Galera node 1 first (one writer).
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/galera.sh"
. "$top_srcdir/tests/hubenv.sh"

GALENV_HUBS=0
export KRUISPUNT_DATA_DIR=$top_srcdir
GALENV_HAPROXY_PID=
: "${HAPROXY:=$(command -v haproxy 2>/dev/null || echo /usr/sbin/haproxy)}"

galenv_get() { eval "echo \"\${GALENV_$1_$2:-}\""; }

# HAProxy: the hub service (HTTP, health check GET /health), one database
# front per hub node (TCP; a node counts only when it is Synced and
# Primary, checked by $T/galera-check; sessions to a node marked down are
# cut so that clients reconnect elsewhere), and a statistics page.
galenv_haproxy_conf() {
	cat >"$T/galera-check.cnf" <<-EOF
		[client]
		user = kpcheck
		password = $GALERA_DB_PASSWORD
		connect-timeout = 2
	EOF
	chmod 600 "$T/galera-check.cnf"
	# HAProxy calls it with: proxy address, proxy port, server address, port
	cat >"$T/galera-check" <<-EOF
		#!/bin/sh
		# Synced (4) and in the Primary Component, or the node is not used
		out=\$($MARIADB_CLIENT --defaults-file=$T/galera-check.cnf -h "\$3" -P "\$4" -N -B \\
		    -e "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state', 'wsrep_cluster_status')" 2>/dev/null) || exit 1
		case "\$out" in *Primary*) ;; *) exit 1 ;; esac
		case "\$out" in *"wsrep_local_state	4"*) exit 0 ;; esac
		exit 1
	EOF
	chmod 700 "$T/galera-check"
	{
		cat <<-EOF
			global
			    maxconn 4096
			    external-check
			    insecure-fork-wanted
			defaults
			    timeout connect 2s
			    timeout client 120s
			    timeout server 120s
			    timeout check 3s
			    retries 3
			    option redispatch
			listen stats
			    mode http
			    bind 127.0.0.1:$GALENV_STATS_PORT
			    stats enable
			    stats uri /stats
			listen hub
			    mode http
			    bind 127.0.0.1:$GALENV_PORT
			    balance roundrobin
			    option httpchk GET /health
			    http-check expect status 200
			    default-server inter 500ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
		EOF
		_hi=1
		while [ $_hi -le "$GALENV_HUBS" ]; do
			echo "    server hub-$_hi 127.0.0.1:$(galenv_get HUB_PORT $_hi) check"
			_hi=$((_hi + 1))
		done
		_hi=1
		while [ $_hi -le "$GALENV_HUBS" ]; do
			_hf=1
			[ "${GALENV_SPREAD:-1}" = 1 ] && _hf=$(( (_hi - 1) % GALERA_N + 1 ))
			cat <<-EOF
				listen db-$_hi
				    mode tcp
				    bind 127.0.0.1:$(galenv_get DB_PORT $_hi)
				    option external-check
				    external-check path "/usr/bin:/bin"
				    external-check command $T/galera-check
				    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down
			EOF
			_hk=0
			while [ $_hk -lt "$GALERA_N" ]; do
				_hn=$(( (_hf - 1 + _hk) % GALERA_N + 1 ))
				echo "    server db$_hn 127.0.0.1:$(galera_get PORT $_hn) check$([ $_hk -gt 0 ] && echo ' backup')"
				_hk=$((_hk + 1))
			done
			_hi=$((_hi + 1))
		done
	} >"$T/haproxy.cfg"
}

galenv_haproxy() {
	"$HAPROXY" -f "$T/haproxy.cfg" -db >>"$T/haproxy.log" 2>&1 &
	GALENV_HAPROXY_PID=$!
	_hw=0
	until curl -s -o /dev/null "$GALENV_STATS"; do
		_hw=$((_hw + 1))
		if [ $_hw -gt 100 ] || ! kill -0 "$GALENV_HAPROXY_PID" 2>/dev/null; then
			echo "galera-env.sh: HAProxy did not start:" >&2
			cat "$T/haproxy.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# HAProxy's status of server SERVER in proxy NAME (UP, DOWN, no check ...).
galenv_backend() {
	curl -s "$GALENV_STATS;csv" | awk -F, -v p="$1" -v s="$2" \
	    '$1 == p && $2 == s { print $18 }'
}

galenv_wait_backend() { # NAME SERVER STATE [SECONDS]
	_w=0
	while [ $_w -lt $((${4:-30} * 10)) ]; do
		case "$(galenv_backend "$1" "$2")" in "$3"*) return 0 ;; esac
		_w=$((_w + 1)); sleep 0.1
	done
	return 1
}

galenv_setup() {
	GALENV_HUBS=${1:-2}
	galera_start 3
	GALENV_PORT=$(galera_free_port)
	GALENV_STATS_PORT=$(galera_free_port)
	GALENV_URL=http://127.0.0.1:$GALENV_PORT/kruispunt
	GALENV_STATS=http://127.0.0.1:$GALENV_STATS_PORT/stats
	_si=1
	while [ $_si -le "$GALENV_HUBS" ]; do
		eval "GALENV_HUB_PORT_$_si=$(galera_free_port)"
		eval "GALENV_DB_PORT_$_si=$(galera_free_port)"
		_si=$((_si + 1))
	done
	galenv_haproxy_conf
	galenv_haproxy || exit 99
	KP_TEST_CONF=$T/kruispunt.conf
	cat >"$KP_TEST_CONF" <<-EOF
		[database]
		host = 127.0.0.1
		port = $GALENV_DB_PORT_1
		user = $GALERA_DB_USER
		password_file = $GALERA_DIR/db-password
		name = $GALERA_DB_NAME
	EOF
	export KP_TEST_CONF
	# HAProxy's first checks
	_si=0
	until "$HUBENV_B/kruispunt" -c "$KP_TEST_CONF" database ping >/dev/null 2>&1; do
		_si=$((_si + 1))
		if [ $_si -gt 100 ]; then
			echo "galera-env.sh: no database through HAProxy:" >&2
			cat "$T/haproxy.log" >&2
			exit 99
		fi
		sleep 0.1
	done
	hubenv_network >/dev/null
}

galenv_hub_conf() { # I [LINES]
	cat <<-EOF
		[hub]
		node = hub-$1
		listen = 127.0.0.1
		port = $(galenv_get HUB_PORT "$1")
		public_url = $GALENV_URL
		workers = ${GALENV_WORKERS:-4}
		[tls]
		enabled = no
		[signing]
		key = $P/hub.key
		certificate = $P/hub.crt
		[trust]
		ca_file = $P/ca.crt
		crl_file = $P/crl.pem
		[notify]
		workers = ${GALENV_NOTIFY:-2}
		lease = ${GALENV_LEASE:-5s}
		backoff_min = 200ms
		backoff_max = 2s
		max_attempts = 50
		[database]
		host = 127.0.0.1
		port = $(galenv_get DB_PORT "$1")
		user = $GALERA_DB_USER
		password_file = $GALERA_DIR/db-password
		name = $GALERA_DB_NAME
	EOF
	[ -n "${2:-}" ] && printf '%s\n' "$2"
	return 0
}

galenv_hub() { # I [LINES]
	galenv_hub_conf "$@" >"$T/hub-$1.conf"
	"$HUBENV_B/kruispuntd" -d -c "$T/hub-$1.conf" 2>>"$T/hub-$1.log" &
	eval "GALENV_HUB_PID_$1=$!"
	hubenv_wait_http "http://127.0.0.1:$(galenv_get HUB_PORT "$1")/health" || {
		echo "galera-env.sh: hub node $1 does not answer:" >&2
		tail -20 "$T/hub-$1.log" >&2
		galenv_diagnose "db-$1" >&2
		return 1
	}
}

# What a failed start needs to be understood: HAProxy's view of the
# database front NAME, each Galera node's state and its log's last lines.
galenv_diagnose() { # NAME
	echo "HAProxy, $1:"
	curl -s "$GALENV_STATS;csv" | awk -F, -v p="$1" \
	    '$1 == p { print "  " $2 ": " $18 ", sessions " $5 ", check " $37 }'
	_di=1
	while [ $_di -le "$GALERA_N" ]; do
		echo "Galera node $_di: $(galera_status $_di wsrep_local_state_comment 2>&1)"
		tail -5 "$GALERA_DIR/node$_di/error.log" 2>/dev/null | sed 's/^/  /'
		_di=$((_di + 1))
	done
}

galenv_hub_stop() { # I [SIGNAL]
	_p=$(galenv_get HUB_PID "$1")
	[ -n "$_p" ] || return 0
	kill "-${2:-TERM}" "$_p" 2>/dev/null
	_w=0
	while kill -0 "$_p" 2>/dev/null && [ $_w -lt 300 ]; do sleep 0.1; _w=$((_w + 1)); done
	kill -KILL "$_p" 2>/dev/null
	{ wait "$_p"; } 2>/dev/null
	eval "GALENV_HUB_PID_$1="
}

galenv_institutions() {
	for _id in $(cut -d' ' -f1 "$T/ports"); do
		hubenv_institution "$_id" || return 1
	done
}

# SQL as root on the first node that is Synced (tab-separated, no header).
galenv_sql() {
	_s=1
	while [ $_s -le "$GALERA_N" ]; do
		if [ -n "$(galera_get PID $_s)" ] &&
		    [ "$(galera_status $_s wsrep_local_state_comment)" = Synced ]; then
			galera_root $_s -N "$GALERA_DB_NAME" -e "$1"
			return
		fi
		_s=$((_s + 1))
	done
	echo "galera-env.sh: no Synced node" >&2
	return 1
}

galenv_stop() {
	_ti=1
	while [ $_ti -le "$GALENV_HUBS" ]; do galenv_hub_stop $_ti; _ti=$((_ti + 1)); done
	for _tp in $hubenv_pids; do kill "$_tp" 2>/dev/null; done
	for _tp in $hubenv_pids; do
		_w=0
		while kill -0 "$_tp" 2>/dev/null && [ $_w -lt 100 ]; do sleep 0.1; _w=$((_w + 1)); done
		wait "$_tp" 2>/dev/null
	done
	hubenv_pids=""
	if [ -n "$GALENV_HAPROXY_PID" ]; then
		kill "$GALENV_HAPROXY_PID" 2>/dev/null
		wait "$GALENV_HAPROXY_PID" 2>/dev/null
		GALENV_HAPROXY_PID=
	fi
	galera_stop
}

# The state, as shell assignments that galera-env.sh's functions understand.
galenv_save() {
	{
		set | grep -E '^(GALERA_|GALENV_|KP_TEST_CONF=|hubenv_pids=|hubenv_inst_)'
		echo "T='$T'"
	} >"$1"
}
