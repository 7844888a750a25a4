#!/bin/sh
# A throwaway Samba Active Directory domain controller for tests (the recipe measured in
# ../shared/SERVICES.md): provisions the domain LK.TEST into a new temporary directory,
# with a TLS certificate from a CA of its own, and starts `samba` serving LDAP only, on
# the loopback address ADDRESS (Samba's LDAP ports are fixed, 389 and 636, so each
# server takes its own address in 127.0.0.0/8 instead of its own port). Prints its
# ldaps:// URL, its CA file and the administrator's DN and password, then waits until
# standard input closes — the process that started it has ended, however it ended — and
# stops samba by its own pid and deletes the directory.
#
#     scripts/throwaway-samba-ad.sh 127.0.0.23
#
# Lockout after 3 wrong binds for 30 minutes. Needs root (ports below 1024) and Debian's
# `samba`, `samba-ad-dc` and `samba-ad-provision` (`make test-tools`).
set -eu
ADDRESS=${1:?usage: throwaway-samba-ad.sh ADDRESS}
if ! command -v samba-tool >/dev/null 2>&1; then
    echo "Samba is not installed (no samba-tool): run make test-tools" >&2
    exit 1
fi
PATH=$PATH:/usr/sbin
DIR=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-samba.XXXXXX")
PID=""
ADDED=""
stop() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [ -n "$ADDED" ]; then
        ip addr del "$ADDRESS/32" dev lo 2>/dev/null || true
    fi
    # Its worker processes may still be closing their files.
    rm -rf "$DIR" 2>/dev/null || { sleep 1; rm -rf "$DIR"; }
}
trap stop EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$DIR/tls"
# Samba listens only on an interface's own address: give the loopback device this one
# (removed again at the end).
if ! ip -o addr show dev lo | grep -q " $ADDRESS/"; then
    ip addr add "$ADDRESS/32" dev lo
    ADDED=1
fi
ADMIN_PW="Adm1n-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')!"
(
    cd "$DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Latchkey test CA" \
        -keyout ca.key -out ca.pem >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
        -out server.csr >/dev/null 2>&1
    printf 'subjectAltName=IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$ADDRESS" >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile ext.cnf -out server.pem >/dev/null 2>&1
    chmod 600 server.key
)
# Host names must differ per server only in their files; the domain is the same.
if ! samba-tool domain provision --targetdir="$DIR" --realm=LK.TEST --domain=LK \
        --server-role=dc --dns-backend=NONE --adminpass="$ADMIN_PW" --use-rfc2307 \
        --option="interfaces=$ADDRESS" --option="bind interfaces only=yes" \
        --option="server services = ldap" \
        --option="tls enabled = yes" --option="tls keyfile = $DIR/tls/server.key" \
        --option="tls certfile = $DIR/tls/server.pem" --option="tls cafile = $DIR/tls/ca.pem" \
        --option="log file = $DIR/log.samba" --option="pid directory = $DIR" \
        >"$DIR/provision.log" 2>&1; then
    cat "$DIR/provision.log" >&2
    exit 1
fi
CONF="$DIR/etc/smb.conf"
if ! samba-tool domain passwordsettings set -s "$CONF" -H "$DIR/private/sam.ldb" \
        --account-lockout-threshold=3 --account-lockout-duration=30 \
        --reset-account-lockout-after=30 --complexity=off --min-pwd-length=8 \
        --min-pwd-age=0 --history-length=0 >>"$DIR/provision.log" 2>&1; then
    cat "$DIR/provision.log" >&2
    exit 1
fi
samba -i -s "$CONF" --debug-stdout </dev/null >"$DIR/samba.log" 2>&1 &
PID=$!
tries=0
until LDAPTLS_CACERT="$DIR/tls/ca.pem" ldapsearch -x -H "ldaps://$ADDRESS" -b "" -s base \
        -D "Administrator@LK.TEST" -w "$ADMIN_PW" >/dev/null 2>&1; do
    if ! kill -0 "$PID" 2>/dev/null || [ $tries -gt 300 ]; then
        cat "$DIR/samba.log" >&2
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1
done
echo "ldaps://$ADDRESS"
echo "ca: $DIR/tls/ca.pem"
echo "admin: CN=Administrator,CN=Users,DC=lk,DC=test"
echo "admin password: $ADMIN_PW"
cat >/dev/null || true
