# kruispunt tests - set-up shared by the fault-injection tests (fault-*.test).
#
# Source it after tests/lib.sh; then fault_setup starts a private MariaDB
# with the sample network (the institutions' endpoints moved to free ports
# on 127.0.0.1, so that these tests run beside hub.test), makes the PKI, and
# starts kruispuntd (hub_start). Every process started here is recorded in
# $fault_pids and stopped by PID on exit, also on failure or a signal.
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later
. "$top_srcdir/tests/mariadb.sh"

B=$top_builddir
P=$T/pki
fault_pids=""
hub=""
n=0
export KRUISPUNT_DATA_DIR=$top_srcdir

# Stop every process this test started, then the database.
fault_stop_all() {
	for p in $hub $fault_pids; do kill "$p" 2>/dev/null; done
	for p in $hub $fault_pids; do wait "$p" 2>/dev/null; done
	mariadb_stop
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Run SQL on the test database; tab-separated, no column names.
sql() { "$MARIADB_CLIENT" --no-defaults --socket="$KP_TEST_DB_SOCKET" -uroot -N "$KP_TEST_DB_NAME" -e "$1"; }

# The port of institution ID in this run's directory.
inst_port() { eval "echo \$port_$1"; }

# MariaDB, the PKI, the sample network with free ports, an admin config.
fault_setup() {
	mariadb_start
	kp_cleanup_hooks="fault_stop_all"
	trap 'kp_cleanup' EXIT
	trap 'kp_cleanup; exit 130' INT
	trap 'kp_cleanup; exit 143' TERM
	K="$B/kruispunt -c $KP_TEST_CONF"
	"$top_srcdir/tests/make-network-pki" "$P" "$top_srcdir/etc/sample/institutions.csv" >/dev/null
	mkdir -p "$T/sample"
	cp "$top_srcdir"/etc/sample/*.csv "$T/sample/"
	for id in $(sed 1d "$top_srcdir/etc/sample/institutions.csv" | cut -d, -f1); do
		p=$(free_port)
		eval "port_$id=$p"
		sed -i "s|^\\($id,.*\\)http://127.0.0.1:[0-9]*/|\\1http://127.0.0.1:$p/|" "$T/sample/institutions.csv"
	done
	$K directory migrate >/dev/null || exit 99
	for t in sectors institutions qualities services mutation_types person_files \
	    authorizations availability subscriptions; do
		$K directory import $t "$T/sample/$t.csv" >/dev/null || exit 99
	done
	for id in $(sed 1d "$top_srcdir/etc/sample/institutions.csv" | cut -d, -f1); do
		$K directory add-cert "$id" "$P/$id.crt" >/dev/null || exit 99
	done
	port=$(free_port)
	URL=http://127.0.0.1:$port/kruispunt
	cat >"$T/hub.conf" <<-CONF
		[hub]
		node = fault-hub
		port = $port
		workers = ${FAULT_WORKERS:-2}
		[tls]
		enabled = no
		[signing]
		key = $P/hub.key
		certificate = $P/hub.crt
		[trust]
		ca_file = $P/ca.crt
		crl_file = $P/crl.pem
		[limits]
		max_message_size = 64k
		clock_skew = 5s
		target_timeout = ${FAULT_TARGET_TIMEOUT:-2s}
		[notify]
		workers = 1
		[database]
		socket = $KP_TEST_DB_SOCKET
		user = $KP_TEST_DB_USER
		password_file = $KP_TEST_DB_DIR/db-password
		name = $KP_TEST_DB_NAME
	CONF
}

# Start kruispuntd and wait (at most 10 s) until /health answers.
hub_start() {
	"$B/kruispuntd" -d -c "$T/hub.conf" 2>>"$T/hub.log" &
	hub=$!
	i=0
	until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/health"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$hub" 2>/dev/null; then
			echo "kruispuntd did not start:"; cat "$T/hub.log"; exit 99
		fi
		sleep 0.1
	done
}

# Restart the private MariaDB on the same data directory and socket, with
# mariadb.sh's mariadb_run when it has one; wait for it to answer (30 s).
fault_db_restart() {
	if type mariadb_run >/dev/null 2>&1; then
		mariadb_run
		return
	fi
	"$MARIADBD" --no-defaults --datadir="$KP_TEST_DB_DIR/data" \
	    --socket="$KP_TEST_DB_SOCKET" --skip-networking \
	    --pid-file="$KP_TEST_DB_DIR/mysqld.pid" \
	    --log-error="$KP_TEST_DB_DIR/error.log" --user="$(id -un)" \
	    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
	    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
	    --max-connections=200 </dev/null >/dev/null 2>&1 &
	KP_TEST_DB_PID=$!
	i=0
	until mariadb_root -e 'SELECT 1' >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$KP_TEST_DB_PID" 2>/dev/null; then
			echo "mariadb did not restart:"; cat "$KP_TEST_DB_DIR/error.log"; exit 99
		fi
		sleep 0.1
	done
}

# Stop the private MariaDB but keep its data directory (mariadb_stop would
# remove it); mariadb.sh's mariadb_halt when it has one.
fault_db_halt() {
	if type mariadb_halt >/dev/null 2>&1; then
		mariadb_halt
		return
	fi
	kill -TERM "$KP_TEST_DB_PID" 2>/dev/null
	i=0
	while kill -0 "$KP_TEST_DB_PID" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$KP_TEST_DB_PID" 2>/dev/null
	wait "$KP_TEST_DB_PID" 2>/dev/null
}

# A Consult body: SERVICE SSIN QUALITY BEGIN [END]; @ID@ is the MessageId.
consult() {
	printf '<kp:ConsultRequest xmlns:kp="urn:kruispunt:hub:1"><kp:MessageId>@ID@</kp:MessageId><kp:Service>%s</kp:Service><kp:Ssin>%s</kp:Ssin><kp:Quality>%s</kp:Quality><kp:Period><kp:Begin>%s</kp:Begin>%s</kp:Period><kp:Payload><q:Ask xmlns:q="urn:example:q">all</q:Ask></kp:Payload></kp:ConsultRequest>' \
	    "$1" "$2" "$3" "$4" "${5:+<kp:End>$5</kp:End>}"
}

# sign_to SIGNER BODY OUT: a SOAP 1.1 request signed by SIGNER, in OUT.
sign_to() {
	n=$((n + 1))
	printf '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s</soap:Body></soap:Envelope>' \
	    "$(printf '%s' "$2" | sed "s/@ID@/fault-$$-$n/")" >"$3.in"
	"$B/kruispunt" sign --ttl 600 --key "$P/$1.key" --cert "$P/$1.crt" "$3.in" >"$3"
}

# post FILE [RESP]: POST a signed file; the answer in RESP ($T/resp.xml),
# the HTTP status in $http, the seconds taken in $secs.
post() {
	t0=$(date +%s.%N)
	http=$(curl -s -o "${2:-$T/resp.xml}" -w '%{http_code}' --max-time 20 -X POST \
	    -H 'Content-Type: text/xml; charset=utf-8' \
	    -H 'SOAPAction: "urn:kruispunt:hub:1#Consult"' --data-binary @"$1" "$URL")
	secs=$(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || python3 -c "print($(date +%s.%N) - $t0)")
}

# request SIGNER BODY: sign and post.
request() {
	sign_to "$1" "$2" "$T/signed.xml"
	post "$T/signed.xml"
}

# The Ticket of an answer file ($T/resp.xml by default).
ticket() { sed -n 's/.*<kp:Ticket>\([^<]*\)<\/kp:Ticket>.*/\1/p' "${1:-$T/resp.xml}" 2>/dev/null | head -1; }

# within SECONDS: the last post took less than SECONDS.
within() { python3 -c "import sys; sys.exit(0 if $secs < $1 else 1)"; }

# A fake institution: python3 fake MODE PORT COUNTFILE. MODE is slow
# (answers after 30 s), trickle (the headers at once, then a byte of the
# body every 0.3 s for 30 s), garbage (200 with text), unsigned (200 with a
# well-formed ProvideDataResponse, unsigned), or reset (closes at once).
fake_start() {
	cat >"$T/fake.py" <<-'PY'
		import http.server, sys, threading, time
		mode, port, count = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		UNSIGNED = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
		    b'<soap:Body><ki:ProvideDataResponse xmlns:ki="urn:kruispunt:institution:1">'
		    b'<ki:Status>OK</ki:Status><ki:Payload><x:Forged xmlns:x="urn:x">yes</x:Forged>'
		    b'</ki:Payload></ki:ProvideDataResponse></soap:Body></soap:Envelope>')
		class H(http.server.BaseHTTPRequestHandler):
		    protocol_version = "HTTP/1.1"
		    def do_POST(self):
		        n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
		        with open(count, "a") as f: f.write("%s\n" % mode)
		        if mode == "slow":
		            time.sleep(30); body = UNSIGNED
		        elif mode == "trickle":
		            self.send_response(200)
		            self.send_header("Content-Type", "text/xml; charset=utf-8")
		            self.send_header("Content-Length", str(len(UNSIGNED)))
		            self.end_headers(); self.wfile.flush()
		            for i in range(100):
		                self.wfile.write(UNSIGNED[i:i + 1]); self.wfile.flush()
		                time.sleep(0.3)
		            return
		        elif mode == "garbage":
		            body = b"\x00\xffthis is not XML <<<"
		        elif mode == "reset":
		            self.close_connection = True; self.connection.close(); return
		        else:
		            body = UNSIGNED
		        self.send_response(200)
		        self.send_header("Content-Type", "text/xml; charset=utf-8")
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers(); self.wfile.write(body)
		    def log_message(self, *a): pass
		s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
		s.daemon_threads = True
		threading.Thread(target=s.serve_forever, daemon=True).start()
		time.sleep(300)
	PY
	python3 "$T/fake.py" "$1" "$2" "$3" &
	fake=$!
	fault_pids="$fault_pids $fake"
	wait_port "$2"
}

# kruispunt-institution as ID on its port, with DATA; KEY (an institution
# id) signs instead of ID's own key when given.
inst_start() {
	k=${3:-$1}
	cat >"$T/$1.conf" <<-CONF
		[institution]
		id = $1
		listen = 127.0.0.1
		port = $(inst_port "$1")
		data = $2
		key = $P/$k.key
		certificate = $P/$k.crt
		ca_file = $P/ca.crt
		hub_certificate = $P/hub.crt
	CONF
	"$B/kruispunt-institution" -d -c "$T/$1.conf" 2>>"$T/institution-$1.log" &
	inst=$!
	fault_pids="$fault_pids $inst"
	wait_port "$(inst_port "$1")"
}

# Stop one process started by fake_start or inst_start.
stop_pid() {
	kill "$1" 2>/dev/null; wait "$1" 2>/dev/null
	fault_pids=$(echo "$fault_pids" | sed "s/ $1\\b//")
}

# Wait until something listens on 127.0.0.1:PORT (at most 10 s).
wait_port() {
	i=0
	until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.5)" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "nothing listens on $1"; exit 99; }; sleep 0.1
	done
}
