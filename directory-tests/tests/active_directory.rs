//! Active Directory keeps the directory contract, on a throwaway Samba domain controller
//! this test process starts (`scripts/throwaway-samba-ad.sh`), over LDAPS.
latchkey_directory_tests::directory_conformance_tests!(latchkey_directory_tests::active_directory);
