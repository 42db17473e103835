package cli

// nativeSeccompArch is the one architecture seccomp filters cover here:
// minibox's filter refuses syscalls made through any other ABI.
const nativeSeccompArch = "SCMP_ARCH_AARCH64"
