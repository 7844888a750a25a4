#!/bin/sh
# A throwaway OpenLDAP server with the ppolicy overlay for tests (the recipe measured in
# ../shared/SERVICES.md): a new temporary directory with a cn=config, a TLS certificate
# for 127.0.0.1 from a CA of its own, and slapd on ldap://127.0.0.1:PORT (StartTLS
# offered). Prints its URL, its CA file and the administrator's DN and password, then
# waits until standard input closes — the process that started it has ended, however it
# ended — and stops slapd by its own pid and deletes the directory.
#
#     scripts/throwaway-openldap.sh PORT
#
# Directory: dc=lk,dc=test; people under ou=people; the password policy locks after 3
# wrong binds until unlocked and makes a reset password be changed. The service account
# cn=latchkey,ou=services,dc=lk,dc=test (password `latchkey-service`) has `manage`
# access, which the Relax Rules control of an unlock needs; a search by it returns at
# most 3 entries unless paged. Needs Debian's `slapd` and `ldap-utils` (`make test-tools`).
set -eu
PORT=${1:?usage: throwaway-openldap.sh PORT}
if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ]; then
    echo "OpenLDAP is not installed (no slapd): run make test-tools" >&2
    exit 1
fi
PATH=$PATH:/usr/sbin
DIR=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-ldap.XXXXXX")
PID=""
stop() {
    if [ -n "$PID" ]; then
        kill -INT "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$DIR/config" "$DIR/db" "$DIR/tls"
SUFFIX="dc=lk,dc=test"
ADMIN_PW="admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
SERVICE_PW="latchkey-service"
# A CA of its own and a certificate for 127.0.0.1 and localhost.
(
    cd "$DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Latchkey test CA" \
        -keyout ca.key -out ca.pem >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
        -out server.csr >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile ext.cnf -out server.pem >/dev/null 2>&1
    chmod 644 server.key
)
cat >"$DIR/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $DIR/slapd.pid
olcTLSCACertificateFile: $DIR/tls/ca.pem
olcTLSCertificateFile: $DIR/tls/server.pem
olcTLSCertificateKeyFile: $DIR/tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

LDIF
for s in core cosine inetorgperson; do
    cat "/etc/ldap/schema/$s.ldif" >>"$DIR/config.ldif"
    echo >>"$DIR/config.ldif"
done
SERVICE="cn=latchkey,ou=services,$SUFFIX"
cat >>"$DIR/config.ldif" <<LDIF
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $DIR/db
olcDbNoSync: TRUE
olcSuffix: $SUFFIX
olcRootDN: cn=admin,$SUFFIX
olcRootPW: $(slappasswd -s "$ADMIN_PW")
olcSizeLimit: size.soft=3 size.hard=3 size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by dn.exact="$SERVICE" manage by anonymous auth by self write by * none
olcAccess: {1}to * by dn.exact="$SERVICE" manage by self read by * none

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: cn=default,ou=policies,$SUFFIX
olcPPolicyHashCleartext: TRUE
LDIF
cat >"$DIR/data.ldif" <<LDIF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
o: Latchkey test
dc: lk

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=services,$SUFFIX
objectClass: organizationalUnit
ou: services

dn: ou=policies,$SUFFIX
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$SUFFIX
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 3
pwdLockoutDuration: 0
pwdMustChange: TRUE

dn: $SERVICE
objectClass: person
cn: latchkey
sn: latchkey
userPassword: $(slappasswd -s "$SERVICE_PW")
LDIF
if ! slapadd -n0 -F "$DIR/config" -l "$DIR/config.ldif" >"$DIR/slapadd.log" 2>&1 \
    || ! slapadd -n1 -F "$DIR/config" -l "$DIR/data.ldif" -q >>"$DIR/slapadd.log" 2>&1; then
    cat "$DIR/slapadd.log" >&2
    exit 1
fi
# Foreground (-d 0), so $! is slapd's own pid.
slapd -d 0 -F "$DIR/config" -h "ldap://127.0.0.1:$PORT/" </dev/null >"$DIR/slapd.log" 2>&1 &
PID=$!
until ldapwhoami -x -H "ldap://127.0.0.1:$PORT" >/dev/null 2>&1; do
    if ! kill -0 "$PID" 2>/dev/null; then
        cat "$DIR/slapd.log" >&2
        PID=""
        exit 1
    fi
    sleep 0.05
done
echo "ldap://127.0.0.1:$PORT"
echo "ca: $DIR/tls/ca.pem"
echo "admin: cn=admin,$SUFFIX"
echo "admin password: $ADMIN_PW"
# Until whoever started us is gone.
cat >/dev/null || true
