# kruispunt tests - set-up and checks shared by the cluster tests
# (tests/cluster*.test): two hub nodes on a Galera cluster behind HAProxy
# (tests/galera-env.sh), the sample institutions, a load, and the checks
# that follow every fault: each answered exchange audited, each
# notification delivered at least once, each node's chain intact.
#
# Source after tests/lib.sh; then cluster_setup. Every process started is
# stopped by PID on exit (also on failure or a signal).
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later
. "$top_srcdir/tests/galera-env.sh"

B=$top_builddir
cluster_pids=""
sign_n=0
# the persons on whom the health fund 0200000142 (INSURED) may ask the
# unemployment office (0100000169)
CLUSTER_PERSONS=70072316186,78031914571,86111512943,94071111328

cluster_stop_all() {
	for p in $cluster_pids; do kill "$p" 2>/dev/null; done
	for p in $cluster_pids; do wait "$p" 2>/dev/null; done
	for id in $(cut -d' ' -f1 "$T/ports" 2>/dev/null); do
		eval "p=\${hubenv_inst_$id:-}"
		[ -n "$p" ] && kill -CONT "$p" 2>/dev/null
	done
	galenv_stop
}

# The cluster, HAProxy, the institutions and two hub nodes; HUB_LINES are
# added to both hubs' configuration.
cluster_setup() {
	[ -x "$B/bench/kruispunt-bench" ] || {
		echo "cluster tests: build bench/kruispunt-bench first"; exit 99; }
	command -v "$HAPROXY" >/dev/null 2>&1 || [ -x "$HAPROXY" ] || {
		echo "cluster tests: needs haproxy (Debian package; scripts/deps)"
		[ "${KRUISPUNT_REQUIRE_DB:-0}" = 1 ] && exit 99
		exit 77; }
	kp_cleanup_hooks="cluster_stop_all"
	t0=$(date +%s)
	galenv_setup 2
	{ printf '<Data xmlns="urn:kruispunt:institution-data:1">\n'
	  for s in $(echo "$CLUSTER_PERSONS" | tr , ' '); do
		printf '<Answer service="UNEMPLOYMENT_STATUS" ssin="%s"><u:Status xmlns:u="urn:example:unemployment:1"><u:Benefit>FULL_TIME</u:Benefit></u:Status></Answer>\n' "$s"
	  done
	  printf '</Data>\n'; } >"$T/0100000169.data"
	galenv_institutions || exit 99
	galenv_hub 1 "${HUB_LINES:-}" || exit 99
	galenv_hub 2 "${HUB_LINES:-}" || exit 99
	galenv_wait_backend hub hub-1 UP 10 && galenv_wait_backend hub hub-2 UP 10 ||
	    { echo "HAProxy does not see the hubs"; cat "$T/haproxy.log"; exit 99; }
	echo "# cluster, HAProxy, 7 institutions and 2 hub nodes ready in $(($(date +%s) - t0)) s"
	printf '<a:Address xmlns:a="urn:example:address:1"><a:Street>Voorbeeldstraat 1</a:Street></a:Address>\n' >"$T/address.xml"
	: >"$T/all-tickets"
}

sql() { galenv_sql "$1"; }
hub_url() { echo "http://127.0.0.1:$(galenv_get HUB_PORT "$1")/kruispunt"; }
health() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(galenv_get HUB_PORT "$1")/health"; }

# A Consult nobody holds data for (no target is called): NOT_AVAILABLE_IN_NETWORK.
only_once() {
	printf '<kp:ConsultRequest xmlns:kp="urn:kruispunt:hub:1"><kp:MessageId>@ID@</kp:MessageId><kp:Service>CHILD_BENEFIT_STATUS</kp:Service><kp:Ssin>78031914571</kp:Ssin><kp:Quality>UNEMPLOYED</kp:Quality><kp:Period><kp:Begin>2026-01-01</kp:Begin></kp:Period></kp:ConsultRequest>'
}

# sign_to SIGNER BODY OUT: a SOAP 1.1 request signed by SIGNER, with a
# MessageId of its own.
sign_to() {
	sign_n=$((sign_n + 1))
	printf '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s</soap:Body></soap:Envelope>' \
	    "$(printf '%s' "$2" | sed "s/@ID@/cluster-$$-$sign_n/")" >"$3.in"
	"$B/kruispunt" sign --ttl 600 --key "$P/$1.key" --cert "$P/$1.crt" "$3.in" >"$3"
}

# post FILE URL OUT: the HTTP status in $http.
post() {
	rm -f "$3"
	http=$(curl -s -o "$3" -w '%{http_code}' --max-time 20 -X POST \
	    -H 'Content-Type: text/xml; charset=utf-8' \
	    -H 'SOAPAction: "urn:kruispunt:hub:1#Consult"' --data-binary @"$1" "$2")
}

# The fault code of an answer, OK for an answer, NONE without one.
code() {
	[ -s "$1" ] || { echo NONE; return; }
	c=$(sed -n 's/.*<kp:Code>\([^<]*\)<\/kp:Code>.*/\1/p' "$1")
	echo "${c:-OK}"
}

# load SECONDS RATE PREFIX [URL]: Consults of the health fund, answered by
# the unemployment office, at RATE/s for SECONDS (open loop, 4 connections,
# through HAProxy unless URL); summary in PREFIX.out, tickets received
# added to $T/all-tickets. LOAD_ONLY_ONCE=1: Consults of the unemployment
# office that no institution is asked for (NOT_AVAILABLE_IN_NETWORK).
load() {
	_secs=$1 _rate=$2 _out=$3 _url=${4:-$GALENV_URL}
	if [ "${LOAD_ONLY_ONCE:-0}" = 1 ]; then
		set -- -K "$P/0100000169.key" -C "$P/0100000169.crt" \
		    --service CHILD_BENEFIT_STATUS --quality UNEMPLOYED \
		    --ssin 78031914571 --period 2026-01-01/2026-12-31
	else
		set -- -K "$P/0200000142.key" -C "$P/0200000142.crt" \
		    --ssin "$CLUSTER_PERSONS" --period 2025-09-01/2025-12-31
	fi
	"$B/bench/kruispunt-bench" -k consult "$@" --ca "$P/ca.crt" -c 4 \
	    -r "$_rate" -n $((_secs * _rate)) -d $((_secs + 20)) -T 30000 \
	    -o "$_out.tickets" "$_url" >"$_out.out" 2>"$_out.err"
	cat "$_out.tickets" >>"$T/all-tickets"
}

# publish_all PREFIX: an address change for every person of the sample
# network, published through HAProxy (two at a time); tickets added to
# $T/all-tickets, the count of refusals and failures in PREFIX.failed.
publish_all() {
	sed 1d "$top_srcdir/etc/sample/person_files.csv" | cut -d, -f1 | sort -u |
	    xargs -P 2 -I{} sh -c "\"$B/kruispunt\" send publish-mutation \
	    --type ADDRESS_CHANGE --ssin {} --effective 2026-11-15 \
	    --payload \"$T/address.xml\" --key \"$P/0300000115.key\" \
	    --cert \"$P/0300000115.crt\" --ca \"$P/ca.crt\" \
	    --hub-cert \"$P/hub.crt\" \"$GALENV_URL\" 2>&1 || echo FAILED" \
	    >"$1.out"
	sed -n 's/^ticket  *//p' "$1.out" >>"$T/all-tickets"
	grep -c "FAILED" "$1.out" >"$1.failed"
}

# The checks after a fault.
cluster_verify() {
	check "every exchange that got an answer has its audit record"
	sort -u "$T/all-tickets" >"$T/tickets"
	sql "SELECT ticket FROM audit_record" | sort -u >"$T/audited"
	got=$(wc -l <"$T/tickets" | tr -d ' ')
	missing=$(comm -23 "$T/tickets" "$T/audited" | wc -l | tr -d ' ')
	if [ "$got" -gt 0 ] && [ "$missing" = 0 ]; then ok "$got tickets, all audited"; else
		not_ok "$missing of $got tickets without audit record: $(comm -23 "$T/tickets" "$T/audited" | head -3 | tr '\n' ' ')"; fi

	check "every notification was delivered at least once"
	w=0
	while [ "$(sql "SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'")" != 0 ] && [ $w -lt 600 ]; do
		sleep 0.1; w=$((w + 1))
	done
	run sql "SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'"
	expect_out 0
	sql "SELECT delivery_id, recipient FROM outbox" >"$T/outbox.txt"
	missing=0
	while read -r d r; do
		grep -q "	$d	" "$T/$r.mutations" 2>/dev/null || missing=$((missing + 1))
	done <"$T/outbox.txt"
	n=$(wc -l <"$T/outbox.txt" | tr -d ' ')
	if [ "$n" -gt 0 ] && [ $missing = 0 ]; then ok "$n deliveries, each in its recipient's log"; else not_ok "$missing of $n deliveries missing"; fi
	run sql "SELECT COUNT(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM audit_record r WHERE r.kind = 'delivery' AND r.message_id = o.delivery_id AND r.decision = 'DELIVERED')"
	expect_out 0
	echo "# deliveries by node: $(sql "SELECT node, COUNT(*) FROM audit_record WHERE kind = 'delivery' AND decision = 'DELIVERED' GROUP BY node ORDER BY node" | tr '\t\n' ': ')"
	echo "# delivered more than once (at least once: a lease ran out during an attempt): $(sql "SELECT COUNT(*) FROM (SELECT message_id FROM audit_record WHERE kind = 'delivery' AND decision = 'DELIVERED' GROUP BY message_id HAVING COUNT(*) > 1) d")"

	check "kruispunt audit verify checks every node's chain"
	for h in 1 2; do galenv_hub_stop $h; done	# a signed checkpoint each
	run "$B/kruispunt" -c "$KP_TEST_CONF" audit verify --hub-cert "$P/hub.crt"
	expect_status 0
	expect_out "every chain is intact"
	for h in 1 2; do
		run "$B/kruispunt" -c "$KP_TEST_CONF" audit verify --node hub-$h --hub-cert "$P/hub.crt"
		case "$out" in
		"0 records"*) not_ok "no record of hub-$h" ;;
		*"every chain is intact"*) ok "hub-$h: ${out%% and*}" ;;
		*) not_ok "hub-$h: $out" ;;
		esac
	done
}
