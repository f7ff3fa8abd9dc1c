# kruispunt tests - a private MariaDB Galera cluster on 127.0.0.1.
#
# Source this file (tests/mariadb.sh's counterpart for a cluster); then
#   galera_start [N]        N nodes (default 3) in a new temporary directory;
#                           returns when every node is Synced. Sets and exports
#     GALERA_DIR            the directory (node1/, node2/, ..., db-password)
#     GALERA_N              the number of nodes
#     GALERA_PORT_i         node i's SQL port on 127.0.0.1
#     GALERA_SOCKET_i       node i's unix socket (for root)
#     GALERA_PID_i          node i's process id
#     GALERA_DB_NAME, GALERA_DB_USER, GALERA_DB_PASSWORD (a user allowed
#                           from 127.0.0.1 and localhost)
#   galera_kill I [SIGNAL]  signal node I (default KILL) and wait until it
#                           is gone
#   galera_restart I        start node I again on its data: after a crash
#                           its position comes from --wsrep-recover, so it
#                           catches up incrementally (IST); waits for Synced
#   galera_bootstrap I      make node I's component Primary again after
#                           quorum was lost (pc.bootstrap=YES)
#   galera_root I ARGS...   the mariadb client as root on node I
#   galera_status I VAR     a wsrep status variable of node I ("" when down)
#   galera_wait I STATE [SECONDS]  wait until wsrep_local_state_comment is
#                           STATE (Synced) and the component is Primary
#   galera_stop             stop every node (SIGTERM, then SIGKILL after
#                           30 s) and remove the directory
#   galera_trap             stop the cluster on exit, failure or signal
#                           (tests call it; scripts/cluster does not)
# Every node has its own datadir, ports (SQL, group communication, IST,
# rsync SST) and --defaults-file, so /etc/mysql is never read. The nodes
# run as the calling user, or as mysql when that is root (rsync's daemon,
# which receives a joiner's copy, would otherwise switch to "nobody").
# GALERA_OPTS adds [mysqld] lines to every node's configuration (the
# benchmarks give the nodes more memory). When MariaDB or galera-4 is
# missing, galera_start exits 77 (skip), or 99 when KRUISPUNT_REQUIRE_DB=1.
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later

PATH="$PATH:/usr/sbin:/sbin"
: "${MARIADBD:=$(command -v mariadbd 2>/dev/null)}"
: "${MARIADB_INSTALL_DB:=$(command -v mariadb-install-db 2>/dev/null)}"
: "${MARIADB_CLIENT:=$(command -v mariadb 2>/dev/null)}"
: "${GALERA_PROVIDER:=/usr/lib/galera/libgalera_smm.so}"
export MARIADBD MARIADB_INSTALL_DB MARIADB_CLIENT
if [ -z "${GALERA_USER:-}" ]; then
	GALERA_USER=$(id -un)
	[ "$(id -u)" = 0 ] && id mysql >/dev/null 2>&1 && GALERA_USER=mysql
fi

galera_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

galera_get() { eval "echo \"\${GALERA_$1_$2:-}\""; }

galera_root() {
	_n=$1; shift
	"$MARIADB_CLIENT" --no-defaults --socket="$(galera_get SOCKET "$_n")" \
	    -uroot "$@"
}

galera_status() {
	galera_root "$1" -N -e "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

# The configuration of node I (written once, kept across restarts).
galera_conf() {
	_n=$1 _d=$GALERA_DIR/node$1
	_addr=""
	_c=1
	while [ $_c -le "$GALERA_N" ]; do
		_addr="$_addr${_addr:+,}127.0.0.1:$(galera_get GCOMM $_c)"
		_c=$((_c + 1))
	done
	cat >"$_d/my.cnf" <<-EOF
		[mysqld]
		user = $GALERA_USER
		datadir = $_d/data
		tmpdir = $_d/tmp
		socket = $_d/mysqld.sock
		pid-file = $_d/mysqld.pid
		log-error = $_d/error.log
		bind-address = 127.0.0.1
		port = $(galera_get PORT "$_n")
		skip-name-resolve
		character-set-server = utf8mb4
		collation-server = utf8mb4_bin
		max-connections = 300
		innodb-buffer-pool-size = 64M
		innodb-log-file-size = 32M
		default-storage-engine = InnoDB
		binlog-format = ROW
		innodb-autoinc-lock-mode = 2
		wsrep-on = ON
		wsrep-provider = $GALERA_PROVIDER
		wsrep-cluster-name = kruispunt-test
		wsrep-cluster-address = gcomm://$_addr
		wsrep-node-name = node$_n
		wsrep-node-address = 127.0.0.1:$(galera_get GCOMM "$_n")
		wsrep-provider-options = "gmcast.listen_addr=tcp://127.0.0.1:$(galera_get GCOMM "$_n");ist.recv_addr=127.0.0.1:$(galera_get IST "$_n");gcache.size=128M;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S;evs.keepalive_period=PT0.3S;evs.join_retrans_period=PT0.3S"
		wsrep-sst-method = rsync
		wsrep-sst-receive-address = 127.0.0.1:$(galera_get SST "$_n")
		wsrep-retry-autocommit = 4
		wsrep-slave-threads = 2
	EOF
	[ -n "${GALERA_OPTS:-}" ] && printf '%s\n' "$GALERA_OPTS" >>"$_d/my.cnf"
	return 0
}

# Start node I's server process (ARGS: extra options); does not wait.
galera_spawn() {
	_n=$1; shift
	"$MARIADBD" --defaults-file="$GALERA_DIR/node$_n/my.cnf" "$@" \
	    </dev/null >>"$GALERA_DIR/node$_n/stdout.log" 2>&1 &
	eval "GALERA_PID_$_n=$!"
	export "GALERA_PID_$_n"
	echo $! >"$GALERA_DIR/node$_n/server.pid"
}

# Wait until node I is STATE and Primary (default 60 s); 0 or 1.
galera_wait() {
	_n=$1 _want=$2 _max=$((${3:-60} * 10)) _w=0
	while [ $_w -lt $_max ]; do
		if [ "$(galera_status "$_n" wsrep_local_state_comment)" = "$_want" ] &&
		    [ "$(galera_status "$_n" wsrep_cluster_status)" = Primary ]; then
			return 0
		fi
		if ! kill -0 "$(galera_get PID "$_n")" 2>/dev/null; then
			echo "galera.sh: node $_n exited:" >&2
			tail -20 "$GALERA_DIR/node$_n/error.log" >&2
			return 1
		fi
		_w=$((_w + 1))
		sleep 0.1
	done
	echo "galera.sh: node $_n not $_want after ${3:-60} s:" >&2
	tail -20 "$GALERA_DIR/node$_n/error.log" >&2
	return 1
}

galera_start() {
	if [ -z "$MARIADBD" ] || [ -z "$MARIADB_INSTALL_DB" ] ||
	    [ -z "$MARIADB_CLIENT" ] || [ ! -f "$GALERA_PROVIDER" ] ||
	    ! command -v rsync >/dev/null 2>&1 ||
	    ! command -v wsrep_sst_rsync >/dev/null 2>&1; then
		echo "galera.sh: needs mariadb-server, galera-4 and rsync (Debian packages)" >&2
		if [ "${KRUISPUNT_REQUIRE_DB:-0}" = 1 ]; then exit 99; fi
		exit 77
	fi
	GALERA_N=${1:-3}
	GALERA_DIR=${GALERA_DIR:-$(mktemp -d /tmp/kp-galera.XXXXXX)} || exit 99
	export GALERA_DIR GALERA_N
	_i=1
	while [ $_i -le "$GALERA_N" ]; do
		for _k in PORT GCOMM IST SST; do
			eval "GALERA_${_k}_$_i=$(galera_free_port)"
			export "GALERA_${_k}_$_i"
		done
		eval "GALERA_SOCKET_$_i=$GALERA_DIR/node$_i/mysqld.sock"
		export "GALERA_SOCKET_$_i"
		mkdir -p "$GALERA_DIR/node$_i/data" "$GALERA_DIR/node$_i/tmp"
		_i=$((_i + 1))
	done
	_i=1
	while [ $_i -le "$GALERA_N" ]; do galera_conf $_i; _i=$((_i + 1)); done
	# the joiner's rsync daemon would run as "nobody" if started by root:
	# as root, the nodes run as mysql
	chmod 755 "$GALERA_DIR"
	[ "$GALERA_USER" != "$(id -un)" ] && chown -R "$GALERA_USER" "$GALERA_DIR"/node*
	# the first node: a new data directory and a new cluster
	if ! "$MARIADB_INSTALL_DB" --no-defaults --datadir="$GALERA_DIR/node1/data" \
	    --tmpdir="$GALERA_DIR/node1/tmp" --user="$GALERA_USER" \
	    --auth-root-authentication-method=normal --skip-test-db \
	    --skip-name-resolve >"$GALERA_DIR/install.log" 2>&1; then
		echo "galera.sh: mariadb-install-db failed:" >&2
		cat "$GALERA_DIR/install.log" >&2
		exit 99
	fi
	galera_spawn 1 --wsrep-new-cluster
	galera_wait 1 Synced 60 || exit 99
	GALERA_DB_NAME=kruispunt
	GALERA_DB_USER=kruispunt
	GALERA_DB_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	export GALERA_DB_NAME GALERA_DB_USER GALERA_DB_PASSWORD
	galera_root 1 <<-SQL || exit 99
		CREATE DATABASE $GALERA_DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER '$GALERA_DB_USER'@'localhost' IDENTIFIED BY '$GALERA_DB_PASSWORD';
		CREATE USER '$GALERA_DB_USER'@'127.0.0.1' IDENTIFIED BY '$GALERA_DB_PASSWORD';
		GRANT ALL ON $GALERA_DB_NAME.* TO '$GALERA_DB_USER'@'localhost';
		GRANT ALL ON $GALERA_DB_NAME.* TO '$GALERA_DB_USER'@'127.0.0.1';
		CREATE USER 'kpcheck'@'127.0.0.1' IDENTIFIED BY '$GALERA_DB_PASSWORD';
	SQL
	printf '%s\n' "$GALERA_DB_PASSWORD" >"$GALERA_DIR/db-password"
	chmod 600 "$GALERA_DIR/db-password"
	# the others join one after the other (each gets a full copy by rsync)
	_i=2
	while [ $_i -le "$GALERA_N" ]; do
		galera_spawn $_i
		galera_wait $_i Synced 90 || exit 99
		_i=$((_i + 1))
	done
}

# Signal node I (default KILL) and wait until the process is gone.
galera_kill() {
	_p=$(galera_get PID "$1")
	[ -n "$_p" ] || return 0
	kill "-${2:-KILL}" "$_p" 2>/dev/null
	# a child of this shell: wait reaps it; another's: watch it go
	{ wait "$_p"; } 2>/dev/null
	_w=0
	while kill -0 "$_p" 2>/dev/null && [ $_w -lt 600 ]; do
		sleep 0.1; _w=$((_w + 1))
	done
	eval "GALERA_PID_$1="
	rm -f "$GALERA_DIR/node$1/server.pid"
}

# Start node I again on its data and wait until it is Synced.
galera_restart() {
	_n=$1
	# the position of a node that crashed, for an incremental catch-up
	_pos=$("$MARIADBD" --defaults-file="$GALERA_DIR/node$_n/my.cnf" \
	    --wsrep-recover --log-error="$GALERA_DIR/node$_n/recover.log" \
	    </dev/null >/dev/null 2>&1;
	    sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
	    "$GALERA_DIR/node$_n/recover.log" | tail -1)
	rm -f "$GALERA_DIR/node$_n/recover.log"
	if [ -n "$_pos" ] && [ "${_pos##*:}" != -1 ]; then
		galera_spawn "$_n" --wsrep-start-position="$_pos"
	else
		galera_spawn "$_n"
	fi
	galera_wait "$_n" Synced "${2:-90}"
}

# Make node I's component Primary again after quorum was lost.
galera_bootstrap() {
	galera_root "$1" -e "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
}

galera_stop() {
	[ -n "${GALERA_DIR:-}" ] && [ -d "$GALERA_DIR" ] || return 0
	_i=1
	while [ $_i -le "${GALERA_N:-0}" ]; do
		_p=$(galera_get PID $_i)
		[ -n "$_p" ] && kill -TERM "$_p" 2>/dev/null
		_i=$((_i + 1))
	done
	_i=1
	while [ $_i -le "${GALERA_N:-0}" ]; do
		_p=$(galera_get PID $_i)
		_k=0
		while [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null && [ $_k -lt 300 ]; do
			sleep 0.1; _k=$((_k + 1))
		done
		if [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; then
			echo "galera.sh: node $_i ($_p) did not stop, killing it" >&2
			kill -KILL "$_p" 2>/dev/null
		fi
		[ -n "$_p" ] && { wait "$_p"; } 2>/dev/null
		eval "GALERA_PID_$_i="
		_i=$((_i + 1))
	done
	rm -rf "$GALERA_DIR"
	GALERA_DIR=
}

galera_trap() {
	trap 'galera_stop' EXIT
	trap 'galera_stop; exit 130' INT
	trap 'galera_stop; exit 143' TERM
}
