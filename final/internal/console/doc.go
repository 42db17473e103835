// Package console gives a container a real terminal: a pseudo-terminal
// pair opened inside the container's own devpts, its master handed to
// whoever drives it over a unix socket (SCM_RIGHTS), and the host side's
// raw mode, window size and SIGWINCH forwarding.
//
// Man pages: [pty(7)], [pts(4)], [ioctl_tty(2)], [unix(7)] (SCM_RIGHTS).
//
// [pty(7)]: https://man7.org/linux/man-pages/man7/pty.7.html
// [pts(4)]: https://man7.org/linux/man-pages/man4/pts.4.html
// [ioctl_tty(2)]: https://man7.org/linux/man-pages/man2/ioctl_tty.2.html
// [unix(7)]: https://man7.org/linux/man-pages/man7/unix.7.html
package console
