// Package tsdbrepair moves aside the blocks of a Prometheus TSDB that
// Prometheus 2.x cannot open, before it starts.
//
// Prometheus writes a block into a temporary directory, syncs it and renames
// it, so a power cut cannot leave half a block behind on honest storage. SD
// cards and their controllers are not always honest: after a cut a block's
// index can be empty or zeroed. Prometheus then refuses to start ("opening
// storage failed: ... corrupted block") and restarting it does not help. The
// data of such a block is lost either way; moving its directory out of the
// data directory (not deleting it) lets Prometheus start with the rest.
package tsdbrepair

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ReasonFile, in a moved block's directory, says why and when it was moved.
const ReasonFile = "edge-quarantine.txt"

// Moved is a block moved out of the data directory.
type Moved struct {
	Block  string // directory name (the block's ULID)
	To     string // where it is now
	Reason string
	Time   time.Time // when it was moved (from its ReasonFile when listed)
}

// QuarantineDir is where blocks of dataDir are moved: inside it (Debian's
// /var/lib/prometheus is root's; Prometheus may write only its data
// directory), under a name that is not a block's, so Prometheus ignores it.
func QuarantineDir(dataDir string) string {
	return filepath.Join(filepath.Clean(dataDir), "quarantine")
}

// Repair checks every block directory of dataDir and moves the ones
// Prometheus would refuse, or could not read, into QuarantineDir(dataDir).
// A missing dataDir is not an error (first start).
func Repair(dataDir string, now time.Time) ([]Moved, error) {
	entries, err := dirEntries(dataDir)
	if err != nil {
		return nil, err
	}
	var moved []Moved
	for _, e := range entries {
		// Blocks are named by ULIDs (26 characters); wal, chunks_head and
		// Prometheus's own temporary directories are left to it.
		if !e.IsDir() || len(e.Name()) != 26 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(dataDir, e.Name())
		bad := CheckBlock(dir)
		if bad == nil {
			continue
		}
		m, err := quarantine(dir, QuarantineDir(dataDir), bad.Error(), now)
		if err != nil {
			return moved, err
		}
		moved = append(moved, m)
	}
	return moved, nil
}

// dirEntries is os.ReadDir with a directory that does not exist empty.
func dirEntries(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

func quarantine(dir, qdir, reason string, now time.Time) (Moved, error) {
	name := filepath.Base(dir)
	if err := os.MkdirAll(qdir, 0o750); err != nil {
		return Moved{}, err
	}
	to := filepath.Join(qdir, name)
	if _, err := os.Stat(to); err == nil {
		to = filepath.Join(qdir, name+"."+now.UTC().Format("20060102T150405"))
	}
	if err := os.Rename(dir, to); err != nil {
		return Moved{}, err
	}
	note := fmt.Sprintf("moved %s\nfrom %s\nreason: %s\n", now.UTC().Format(time.RFC3339), dir, reason)
	if err := os.WriteFile(filepath.Join(to, ReasonFile), []byte(note), 0o640); err != nil {
		return Moved{}, err
	}
	return Moved{Block: name, To: to, Reason: reason, Time: now}, nil
}

// List returns the blocks in a quarantine directory, oldest move first.
func List(qdir string) ([]Moved, error) {
	entries, err := dirEntries(qdir)
	if err != nil {
		return nil, err
	}
	var out []Moved
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		m := Moved{Block: e.Name(), To: filepath.Join(qdir, e.Name())}
		if b, err := os.ReadFile(filepath.Join(m.To, ReasonFile)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				k, v, _ := strings.Cut(l, " ")
				switch k {
				case "moved":
					m.Time, _ = time.Parse(time.RFC3339, v)
				case "reason:":
					m.Reason = v
				}
			}
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// CheckBlock returns why Prometheus could not use the block in dir, or nil.
// It checks what a cut leaves broken: meta.json, the index's header and
// table of contents (with its checksum, as Prometheus does on open) and the
// chunk segments' headers.
func CheckBlock(dir string) error {
	var meta struct {
		ULID    string `json:"ulid"`
		Version int    `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &meta); err != nil || meta.ULID == "" {
		return fmt.Errorf("meta.json: unreadable (%d bytes): %v", len(b), err)
	}
	if err := checkIndex(filepath.Join(dir, "index")); err != nil {
		return err
	}
	segs, err := filepath.Glob(filepath.Join(dir, "chunks", "[0-9]*"))
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return fmt.Errorf("chunks: no segment files")
	}
	for _, s := range segs {
		if err := checkHeader(s, chunksMagic, 8); err != nil {
			return fmt.Errorf("chunks/%s: %w", filepath.Base(s), err)
		}
	}
	return nil
}

// Formats of Prometheus's tsdb (docs/format/index.md and chunks.md).
var (
	indexMagic  = []byte{0xBA, 0xAA, 0xD7, 0x00}
	chunksMagic = []byte{0x85, 0xBD, 0x40, 0xDD}
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

const tocLen = 6*8 + 4 // six section offsets and a CRC32

func checkIndex(path string) error {
	if err := checkHeader(path, indexMagic, 5); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < 5+tocLen {
		return fmt.Errorf("index: %d bytes, too short for a table of contents", st.Size())
	}
	toc := make([]byte, tocLen)
	if _, err := f.ReadAt(toc, st.Size()-tocLen); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if got, want := crc32.Checksum(toc[:tocLen-4], castagnoli), binary.BigEndian.Uint32(toc[tocLen-4:]); got != want {
		return fmt.Errorf("index: table of contents checksum %08x, want %08x", got, want)
	}
	for i := 0; i < 6; i++ {
		if off := binary.BigEndian.Uint64(toc[i*8:]); off > uint64(st.Size()) {
			return fmt.Errorf("index: section offset %d beyond the file's %d bytes", off, st.Size())
		}
	}
	return nil
}

// checkHeader: the file starts with magic and is at least min bytes long.
func checkHeader(path string, magic []byte, min int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := make([]byte, min)
	n, err := io.ReadFull(f, h)
	if err != nil {
		return fmt.Errorf("%d bytes, want at least %d", n, min)
	}
	if !bytes.Equal(h[:len(magic)], magic) {
		return fmt.Errorf("bad magic number %x", h[:len(magic)])
	}
	return nil
}
