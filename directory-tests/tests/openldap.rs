//! OpenLDAP with the ppolicy overlay keeps the directory contract, on a throwaway slapd
//! this test process starts (`scripts/throwaway-openldap.sh`), over StartTLS.
latchkey_directory_tests::directory_conformance_tests!(latchkey_directory_tests::openldap);
