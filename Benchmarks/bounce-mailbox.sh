#!/usr/bin/env bash
# Reading a bounce mailbox of COUNT reports over IMAP with TLS from Debian's Dovecot (started
# here in a temporary folder): `herald bounces poll` (release build, SQLite) fetches each message,
# reads it, matches it by VERP to its message, records the decision and moves the recorded ones
# to Processed 50 per UID MOVE. The peer in the same run, on the same mailbox filled again: a
# Python imaplib loop doing the transport part alone (UID FETCH BODY.PEEK[], Python's email
# parser over every part, UID MOVE 50 at a time), with no database and no decisions.
#
# The reports are soft bounces (Postfix's "mailbox full") of COUNT emails Herald delivered to its
# outbox, each returned to the VERP address that email's envelope carried.
#
#   Benchmarks/bounce-mailbox.sh [COUNT]      (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
COUNT=${1:-10000}
bench_setup dovecot-imapd dovecot-pop3d sqlite3
WORK=$(mktemp -d /tmp/herald-bench-mailbox.XXXXXX)
chmod 755 "$WORK"
DOVECOT_PID=
cleanup() { [ -n "$DOVECOT_PID" ] && kill "$DOVECOT_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Dovecot: TLS only, one user whose Maildir belongs to nobody (Dovecot runs no mail process as root).
IMAPS=$(free_port)
D=$WORK/dovecot
mkdir -p "$D/run" "$D/state" "$D/home/Maildir"/{new,cur,tmp}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 2>/dev/null
echo 'bounces:{PLAIN}bench-mailbox-password' > "$D/passwd"
cat > "$D/dovecot.conf" <<CONF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/home
}
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $IMAPS
  }
}
service anvil {
  chroot =
}
CONF
chown -R nobody:nogroup "$D/home"
/usr/sbin/dovecot -F -c "$D/dovecot.conf" &
DOVECOT_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$IMAPS) 2>/dev/null && break; sleep 0.1; done
echo "bench: dovecot on 127.0.0.1:$IMAPS (pid $DOVECOT_PID)"

# Herald: COUNT emails delivered to the outbox, each envelope sender a VERP address.
H=$WORK/herald
mkdir -p "$H/Config"
export BENCH_UNSUBSCRIBE_SECRET=bench-unsubscribe-key-0123456789
export HERALD_BOUNCE_SECRET=bench-bounce-key-0123456789
export HERALD_BOUNCE_MAILBOX_PASSWORD=bench-mailbox-password
cat > "$H/Config/herald.yaml" <<YAML
database: var/herald.sqlite
templates: $PWD/Templates
workers: 8
intake: {drop_folder: off, socket: off}
unsubscribe: {base_url: "https://crm.example.com/u", secret: "\${BENCH_UNSUBSCRIBE_SECRET}"}
channels:
  email:
    transport: outbox
    smtp: {url: "smtp://127.0.0.1:25"}
    from: "Harbor Financial Planning <news@harbor-financial.example>"
    bounces:
      return_path: "bounces@bounce.harbor-financial.example"
      secret: "\${HERALD_BOUNCE_SECRET}"
      mailbox:
        url: "imaps://127.0.0.1:$IMAPS/INBOX"
        username: bounces
        password: "\${HERALD_BOUNCE_MAILBOX_PASSWORD}"
        ca_file: "$D/cert.pem"
YAML
/usr/bin/python3 - "$COUNT" > "$WORK/messages.ndjson" <<'PY'
import json, sys
for n in range(int(sys.argv[1])):
    print(json.dumps({"key": f"lead-{n}/welcome", "channel": "email", "template": "welcome-guide", "campaign": "bench",
                      "to": {"email": f"lead-{n}@example.com", "name": "Sarah Jones"},
                      "data": {"first_name": "Sarah", "guide": "Your Guide", "guide_url": "https://harbor.example/g.pdf",
                               "advisor": "Daniel", "highlights": ["p. 4"]}}))
PY
echo "bench: delivering $COUNT emails to the outbox"
(cd "$H" && HERALD_LOG_LEVEL=warning "$BIN/herald" enqueue "$WORK/messages.ndjson" --config Config/herald.yaml >/dev/null \
  && HERALD_LOG_LEVEL=error "$BIN/herald" run --once --config Config/herald.yaml)
/usr/bin/python3 - "$H/var/outbox/email" "$WORK/reports" <<'PY'
import os, sys
outbox, target = sys.argv[1], sys.argv[2]
os.makedirs(target)
template = open("Tests/Corpus/bounces/postfix-mailbox-full.eml", "rb").read()
for n, name in enumerate(sorted(os.listdir(outbox))):
    head = open(os.path.join(outbox, name), "rb").read(4096).split(b"\r\n")
    verp = [l for l in head if l.startswith(b"X-Herald-Envelope-From: ")][0].split(b": ", 1)[1]
    to = [l for l in head if l.startswith(b"X-Herald-Envelope-To: ")][0].split(b": ", 1)[1]
    report = template.replace(b"${VERP}", verp).replace(b"sarah.jones@example.com", to)
    open(os.path.join(target, "%d.M%dP1.bench" % (1700000000 + n, n)), "wb").write(report)
PY
[ "$(ls "$WORK/reports" | wc -l)" -eq "$COUNT" ] || { echo "bench: expected $COUNT outbox messages"; exit 1; }

# fill: the mailbox holds exactly the COUNT reports, unread.
fill() {
  rm -rf "$D/home/Maildir"
  mkdir -p "$D/home/Maildir"/{new,cur,tmp}
  cp "$WORK/reports"/* "$D/home/Maildir/new/"
  chown -R nobody:nogroup "$D/home"
}
inbox() {
  /usr/bin/python3 Tests/Servers/imap_mailbox.py --port "$IMAPS" --cafile "$D/cert.pem" --user bounces \
    --password bench-mailbox-password list "$1" | /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

echo "bench: herald bounces poll over $COUNT reports"
fill
start=$(date +%s.%N)
(cd "$H" && HERALD_LOG_LEVEL=warning "$BIN/herald" bounces poll --config Config/herald.yaml)
herald_s=$(echo "$(date +%s.%N) - $start" | bc -l)
counted=$(sqlite3 "$H/var/herald.sqlite" "SELECT count(*) FROM bounces WHERE decision = 'counted'")
[ "$counted" -eq "$COUNT" ] || { echo "bench: $counted of $COUNT reports counted as soft bounces"; exit 1; }
[ "$(inbox INBOX)" -eq 0 ] && [ "$(inbox Processed)" -eq "$COUNT" ] || { echo "bench: the reports did not all move"; exit 1; }

echo "bench: peer (imaplib fetch, parse, move) over $COUNT reports"
fill
peer_s=$(/usr/bin/python3 - "$IMAPS" "$D/cert.pem" <<'PY'
import email, imaplib, ssl, sys, time
client = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
client.login("bounces", "bench-mailbox-password")
client.create("PeerDone")
client.select("INBOX")
start = time.perf_counter()
uids = client.uid("SEARCH", None, "ALL")[1][0].split()
pending = []
for uid in uids:
    data = client.uid("FETCH", uid, "(BODY.PEEK[])")[1]
    for part in email.message_from_bytes(data[0][1]).walk():
        part.get_payload(decode=True)
    pending.append(uid.decode())
    if len(pending) >= 50:
        client.uid("MOVE", ",".join(pending), "PeerDone")
        pending = []
if pending:
    client.uid("MOVE", ",".join(pending), "PeerDone")
print(time.perf_counter() - start)
PY
)
[ "$(inbox INBOX)" -eq 0 ] || { echo "bench: the peer left messages"; exit 1; }

herald_rate=$(echo "$COUNT / $herald_s" | bc -l)
peer_rate=$(echo "$COUNT / $peer_s" | bc -l)
printf '\n== Bounce mailbox over IMAP+TLS, %s reports (Dovecot, Maildir) ==\n' "$COUNT"
printf 'herald bounces poll (read, match, record, move)   %6.0f messages/s  (%.1f s, process start included)\n' "$herald_rate" "$herald_s"
printf 'peer: imaplib fetch + email parser + move           %6.0f messages/s  (%.1f s)\n' "$peer_rate" "$peer_s"
printf 'summary: herald/peer %.2f\n' "$(echo "$herald_rate / $peer_rate" | bc -l)"
