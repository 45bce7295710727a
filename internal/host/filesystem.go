package host

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prometheus/procfs"
)

// node_exporter 1.5's defaults (upstream's; Debian's build excludes /run,
// /mnt and /media as well, which would hide a USB disk).
const (
	DefaultMountPointsExclude = `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`
	DefaultFSTypesExclude     = `^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$`
)

var (
	fsLabels       = []string{"device", "mountpoint", "fstype"}
	fsSizeDesc     = desc("node_filesystem_size_bytes", "Filesystem size in bytes (statfs).", fsLabels...)
	fsFreeDesc     = desc("node_filesystem_free_bytes", "Free space in bytes, root's reserve included (statfs).", fsLabels...)
	fsAvailDesc    = desc("node_filesystem_avail_bytes", "Space in bytes available to users other than root (statfs).", fsLabels...)
	fsFilesDesc    = desc("node_filesystem_files", "Inodes of the filesystem (statfs).", fsLabels...)
	fsFilesFree    = desc("node_filesystem_files_free", "Free inodes of the filesystem (statfs).", fsLabels...)
	fsReadonlyDesc = desc("node_filesystem_readonly", "1 when the filesystem is mounted read-only (the mount or its superblock), 0 otherwise.", fsLabels...)
	fsErrorDesc    = desc("node_filesystem_device_error", "1 when statfs of the mount point failed or did not answer in time (a dead network share, a yanked disk); its other families are then absent.", fsLabels...)
)

// filesystemCollector is node_exporter's filesystem collector: every mount
// of the host's mount table but the excluded ones, with statfs(2) of its
// mount point below the root filesystem.
type filesystemCollector struct {
	proc          procfs.FS
	file          func(string) ([]byte, error)
	table         *mountTable
	procfs        string
	rootfs        string
	excludeMounts *regexp.Regexp
	excludeTypes  *regexp.Regexp
	statfs        *statfser
}

func newFilesystem(e *env) collector {
	c := &filesystemCollector{proc: e.proc, file: e.file, procfs: e.procfs, rootfs: e.rootfs, excludeMounts: e.opts.MountPointsExclude,
		excludeTypes: e.opts.FSTypesExclude, statfs: newStatfser(e.opts.MountTimeout)}
	if c.excludeMounts == nil {
		c.excludeMounts = regexp.MustCompile(DefaultMountPointsExclude)
	}
	if c.excludeTypes == nil {
		c.excludeTypes = regexp.MustCompile(DefaultFSTypesExclude)
	}
	return c
}

// mount is one line of the mount table, as the filesystem families label it.
type mount struct {
	device, mountpoint, fstype string
	ro                         bool
}

func (c *filesystemCollector) update(p *poll) error {
	t, err := c.mounts()
	if err != nil {
		return err
	}
	stats := c.statfs.stat(t.paths)
	for i, m := range t.mounts {
		l := [...]string{m.device, m.mountpoint, m.fstype}
		st := stats[i]
		if st.err != nil {
			p.gauge(fsErrorDesc, 1, l[:]...)
			p.log.Debug("statfs failed", "mountpoint", m.mountpoint, "err", st.err)
			continue
		}
		p.gauge(fsErrorDesc, 0, l[:]...)
		bsize := float64(st.Bsize)
		p.gauge(fsSizeDesc, float64(st.Blocks)*bsize, l[:]...)
		p.gauge(fsFreeDesc, float64(st.Bfree)*bsize, l[:]...)
		p.gauge(fsAvailDesc, float64(st.Bavail)*bsize, l[:]...)
		p.gauge(fsFilesDesc, float64(st.Files), l[:]...)
		p.gauge(fsFilesFree, float64(st.Ffree), l[:]...)
		p.gauge(fsReadonlyDesc, boolFloat(m.ro), l[:]...)
	}
	return nil
}

// mountTable is the mount table as the filesystem families see it.
type mountTable struct {
	raw    []byte // the file it was parsed from
	mounts []mount
	paths  []string // where statfs is called for each mount
}

// mounts reads the host's mount table, that of PID 1 (the daemon's own
// mount namespace has the hardening of its unit: read-only binds, private
// /tmp), or the daemon's own where /proc/1 is hidden, as node_exporter
// does. procfs parses it only when it changed since the last poll (a mount
// or an unmount), which spares a poll some 400 allocations.
func (c *filesystemCollector) mounts() (*mountTable, error) {
	pid := 1
	raw, err := c.file(filepath.Join(c.procfs, "1", "mountinfo"))
	if errors.Is(err, fs.ErrNotExist) {
		pid = 0
		raw, err = c.file(filepath.Join(c.procfs, "self", "mountinfo"))
	}
	if err != nil {
		return nil, err
	}
	if c.table != nil && bytes.Equal(raw, c.table.raw) {
		return c.table, nil
	}
	infos, err := c.proc.GetProcMounts(1)
	path := filepath.Join(c.procfs, "1", "mountinfo")
	if pid == 0 {
		infos, err = c.proc.GetMounts()
		path = filepath.Join(c.procfs, "self", "mountinfo")
	}
	if err != nil {
		return nil, inFile(path, err)
	}
	c.table = c.parse(raw, infos)
	return c.table, nil
}

// parse keeps the mounts that are not excluded, and the first of mounts
// that would share their labels.
func (c *filesystemCollector) parse(raw []byte, infos []*procfs.MountInfo) *mountTable {
	t := &mountTable{raw: raw}
	seen := make(map[mount]bool, len(infos))
	for _, mi := range infos {
		m := mount{device: mi.Source, mountpoint: c.stripRoot(unescapeMount(mi.MountPoint)), fstype: mi.FSType}
		if c.excludeMounts.MatchString(m.mountpoint) || c.excludeTypes.MatchString(m.fstype) || seen[m] {
			continue
		}
		seen[m] = true
		_, mountRO := mi.Options["ro"]
		_, superRO := mi.SuperOptions["ro"]
		// /proc/mounts, which node_exporter reads, says "ro" for either.
		m.ro = mountRO || superRO
		t.mounts = append(t.mounts, m)
		t.paths = append(t.paths, filepath.Join(c.rootfs, m.mountpoint))
	}
	return t
}

// stripRoot makes a mount point below --path.rootfs relative to it, as
// node_exporter does for a host root mounted into a container.
func (c *filesystemCollector) stripRoot(mp string) string {
	if c.rootfs == "/" {
		return mp
	}
	if rest, ok := strings.CutPrefix(mp, strings.TrimSuffix(c.rootfs, "/")); ok && (rest == "" || rest[0] == '/') {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return mp
}

// mountEscapes are the octal escapes the kernel writes in mount points.
var mountEscapes = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return mountEscapes.Replace(s)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
