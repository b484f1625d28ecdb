package audit

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// maxCommandLen bounds a reported command line.
const maxCommandLen = 512

var (
	errNoSocket  = errors.New("socket not in the tcp tables")
	errNoOwner   = errors.New("no visible process owns the socket")
	errNoNetlink = errors.New("sock_diag unavailable")
)

// scanTables returns the inode of the client's end of the TCP connection
// from client to server, from the tables of the reader's network
// namespace, where loopback connections live. An IPv4 client may sit on an
// IPv6 socket, so both tables are read for it.
//
// It is the fallback for when sock_diag cannot be asked: the kernel prints
// a table by walking the sockets of every namespace, TIME_WAIT ones
// included, which takes tens of milliseconds on a busy host.
func scanTables(root string, client, server netip.AddrPort) (uint64, error) {
	tables := []string{"tcp", "tcp6"}
	if client.Addr().Unmap().Is6() {
		tables = tables[1:]
	}
	var firstErr error
	for _, t := range tables {
		inode, err := scanTCP(filepath.Join(root, "net", t), client, server)
		if inode != 0 {
			return inode, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return 0, firstErr
	}
	return 0, errNoSocket
}

// scanTCP looks for the socket with local address client and remote
// address server in one of /proc/net/tcp{,6}, returning its inode or 0.
// It stops at the first live match and looks into no other line than
// those of the client's port.
func scanTCP(path string, client, server netip.AddrPort) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read tcp table: %w", err)
	}
	defer f.Close()

	// Ports are printed as four upper-case hex digits: a cheap filter
	// before a line is parsed.
	portSuffix := fmt.Appendf(nil, ":%04X", client.Port())
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10) // fewer, larger reads of the table
	sc.Scan()                               // the header
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasSuffix(field(line, 1), portSuffix) {
			continue
		}
		local, err1 := parseHexAddrPort(string(field(line, 1)))
		remote, err2 := parseHexAddrPort(string(field(line, 2)))
		if err1 != nil || err2 != nil || !sameEnd(local, client) || !sameEnd(remote, server) {
			continue
		}
		inode, err := strconv.ParseUint(string(field(line, 9)), 10, 64)
		if err == nil && inode != 0 { // 0: TIME_WAIT, no longer anyone's
			return inode, nil
		}
	}
	return 0, sc.Err()
}

// field returns the i-th space-separated field of line, or nil, without
// the allocations of strings.Fields: most lines are dropped after one look.
func field(line []byte, i int) []byte {
	for {
		line = bytes.TrimLeft(line, " ")
		end := bytes.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		if i == 0 || end == len(line) {
			if i == 0 && end > 0 {
				return line[:end]
			}
			return nil
		}
		line = line[end:]
		i--
	}
}

func sameEnd(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// parseHexAddrPort decodes an address as the kernel prints it in the tcp
// tables: each 32-bit word of the address as a hex number in host byte
// order, a colon, and the port as a hex number.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q: bad hex", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: bad port", s)
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr := netip.AddrFrom16(b)
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// socketOwner returns the pid of a process holding the socket with the
// given inode open, by reading /proc/PID/fd links: first those of the
// likely pids, then every process's. Processes that vanish or cannot be
// read are skipped.
func socketOwner(root string, inode uint64, likely []int) (int, error) {
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	for _, pid := range likely {
		if found, _ := holds(filepath.Join(root, strconv.Itoa(pid), "fd"), want); found {
			return pid, nil
		}
	}
	d, err := os.Open(root)
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	unreadable := 0
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 || slices.Contains(likely, pid) {
			continue
		}
		found, err := holds(filepath.Join(root, name, "fd"), want)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			unreadable++
		}
		if found {
			return pid, nil
		}
	}
	if unreadable > 0 {
		return 0, fmt.Errorf("%w (%d processes unreadable)", errNoOwner, unreadable)
	}
	return 0, errNoOwner
}

// holds reports whether a descriptor in fdDir links to want.
func holds(fdDir, want string) (bool, error) {
	d, err := os.Open(fdDir)
	if err != nil {
		return false, err
	}
	fds, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return false, err
	}
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join(fdDir, fd)); err == nil && link == want {
			return true, nil
		}
	}
	return false, nil
}

// readCommand returns the command line of pid, or its name in brackets
// when it has none (kernel threads, zombies), or "" when it is gone.
func readCommand(root, pid string) string {
	b, _ := readAtMost(filepath.Join(root, pid, "cmdline"), maxCommandLen)
	s := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
	if s == "" {
		comm, _ := readAtMost(filepath.Join(root, pid, "comm"), 64)
		if c := strings.TrimSpace(string(comm)); c != "" {
			s = "[" + c + "]"
		}
	}
	return printable(s)
}

// printable replaces unprintable characters with '?': they could steer the
// terminal that shows the report. Printable ASCII, what metadata paths are
// made of, is passed through without a look at each rune.
func printable(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] >= 0x20 && s[i] < 0x7f
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}

func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}
