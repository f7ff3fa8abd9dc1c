# kruispunt tests - a private MariaDB server for one test run.
#
# Source this file, then call mariadb_start; it sets and exports
#   KP_TEST_DB_DIR     the server's temporary directory (data, socket, logs)
#   KP_TEST_DB_SOCKET  its unix socket (no TCP: --skip-networking)
#   KP_TEST_DB_PID     the server's process id
#   KP_TEST_DB_NAME, KP_TEST_DB_USER, KP_TEST_DB_PASSWORD
#   KP_TEST_CONF       a kruispunt.conf with a [database] section for it
# mariadb_halt stops the server but keeps its data; mariadb_run starts it
# again on them (tests of recovery).
# It also installs a trap that stops the server by PID and removes the directory
# on exit, also on failure, Ctrl-C or SIGTERM. mariadb_stop does it at once.
#
# Works as root (CI runs as root): the server runs as the calling user.
# KP_TEST_DB_OPTS adds server options (the benchmarks give it more memory).
# When no MariaDB server is installed, mariadb_start exits 77 (automake's
# "skipped"), or 99 (hard error) when KRUISPUNT_REQUIRE_DB=1.
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later

PATH="$PATH:/usr/sbin:/sbin"
: "${MARIADBD:=$(command -v mariadbd 2>/dev/null)}"
: "${MARIADB_INSTALL_DB:=$(command -v mariadb-install-db 2>/dev/null)}"
: "${MARIADB_CLIENT:=$(command -v mariadb 2>/dev/null)}"
export MARIADBD MARIADB_INSTALL_DB MARIADB_CLIENT

mariadb_stop() {
	if [ -n "${KP_TEST_DB_PID:-}" ] && kill -0 "$KP_TEST_DB_PID" 2>/dev/null; then
		kill -TERM "$KP_TEST_DB_PID" 2>/dev/null
		i=0
		while kill -0 "$KP_TEST_DB_PID" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1; i=$((i + 1))
		done
		if kill -0 "$KP_TEST_DB_PID" 2>/dev/null; then
			echo "mariadb.sh: server $KP_TEST_DB_PID did not stop, killing it" >&2
			kill -KILL "$KP_TEST_DB_PID" 2>/dev/null
		fi
		wait "$KP_TEST_DB_PID" 2>/dev/null
	fi
	KP_TEST_DB_PID=
	if [ -n "${KP_TEST_DB_DIR:-}" ] && [ -d "$KP_TEST_DB_DIR" ]; then
		rm -rf "$KP_TEST_DB_DIR"
	fi
	KP_TEST_DB_DIR=
}

# Run SQL as the server's root user (unix socket, no password).
mariadb_root() {
	"$MARIADB_CLIENT" --no-defaults --socket="$KP_TEST_DB_SOCKET" -uroot "$@"
}

# Start the server process on the existing data directory (after a stop or
# a crash, for the tests of recovery); waits until it answers.
mariadb_run() {
	"$MARIADBD" --no-defaults --datadir="$KP_TEST_DB_DIR/data" \
	    --tmpdir="$KP_TEST_DB_DIR/tmp" \
	    --socket="$KP_TEST_DB_SOCKET" --skip-networking \
	    --pid-file="$KP_TEST_DB_DIR/mysqld.pid" \
	    --log-error="$KP_TEST_DB_DIR/error.log" --user="$(id -un)" \
	    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
	    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
	    --max-connections=200 ${KP_TEST_DB_OPTS:-} </dev/null >/dev/null 2>&1 &
	KP_TEST_DB_PID=$!
	export KP_TEST_DB_PID
	i=0
	until mariadb_root -e 'SELECT 1' >/dev/null 2>&1; do
		if ! kill -0 "$KP_TEST_DB_PID" 2>/dev/null; then
			echo "mariadb.sh: the server exited at start-up:" >&2
			cat "$KP_TEST_DB_DIR/error.log" >&2
			exit 99
		fi
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "mariadb.sh: the server did not answer within 30 s:" >&2
			cat "$KP_TEST_DB_DIR/error.log" >&2
			exit 99
		fi
		sleep 0.1
	done
}

# Stop the server process (SIGTERM, or the signal given) but keep its data.
mariadb_halt() {
	if [ -n "${KP_TEST_DB_PID:-}" ] && kill -0 "$KP_TEST_DB_PID" 2>/dev/null; then
		kill "-${1:-TERM}" "$KP_TEST_DB_PID" 2>/dev/null
		wait "$KP_TEST_DB_PID" 2>/dev/null
	fi
}

mariadb_start() {
	if [ -z "$MARIADBD" ] || [ -z "$MARIADB_INSTALL_DB" ] || [ -z "$MARIADB_CLIENT" ]; then
		echo "mariadb.sh: no MariaDB server here (install the Debian package mariadb-server)" >&2
		if [ "${KRUISPUNT_REQUIRE_DB:-0}" = 1 ]; then exit 99; fi
		exit 77
	fi
	KP_TEST_DB_DIR=$(mktemp -d /tmp/kp-mariadb.XXXXXX) || exit 99
	trap 'mariadb_stop' EXIT
	trap 'mariadb_stop; exit 130' INT
	trap 'mariadb_stop; exit 143' TERM
	KP_TEST_DB_SOCKET="$KP_TEST_DB_DIR/mysqld.sock"
	user=$(id -un)
	# its own temporary directory: servers started at once in /tmp collide
	mkdir -p "$KP_TEST_DB_DIR/tmp"
	if ! "$MARIADB_INSTALL_DB" --no-defaults --datadir="$KP_TEST_DB_DIR/data" \
	    --tmpdir="$KP_TEST_DB_DIR/tmp" \
	    --user="$user" --auth-root-authentication-method=normal \
	    --skip-test-db --skip-name-resolve >"$KP_TEST_DB_DIR/install.log" 2>&1; then
		echo "mariadb.sh: mariadb-install-db failed:" >&2
		cat "$KP_TEST_DB_DIR/install.log" >&2
		exit 99
	fi
	mariadb_run
	KP_TEST_DB_NAME=kruispunt_test
	KP_TEST_DB_USER=kruispunt
	KP_TEST_DB_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	mariadb_root <<-SQL || exit 99
		CREATE DATABASE $KP_TEST_DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER '$KP_TEST_DB_USER'@'localhost' IDENTIFIED BY '$KP_TEST_DB_PASSWORD';
		GRANT ALL ON $KP_TEST_DB_NAME.* TO '$KP_TEST_DB_USER'@'localhost';
	SQL
	printf '%s\n' "$KP_TEST_DB_PASSWORD" >"$KP_TEST_DB_DIR/db-password"
	chmod 600 "$KP_TEST_DB_DIR/db-password"
	KP_TEST_CONF="$KP_TEST_DB_DIR/kruispunt.conf"
	cat >"$KP_TEST_CONF" <<-EOF
		[database]
		socket = $KP_TEST_DB_SOCKET
		user = $KP_TEST_DB_USER
		password_file = db-password
		name = $KP_TEST_DB_NAME
	EOF
	export KP_TEST_DB_DIR KP_TEST_DB_SOCKET KP_TEST_DB_PID KP_TEST_DB_NAME \
	    KP_TEST_DB_USER KP_TEST_DB_PASSWORD KP_TEST_CONF
}
