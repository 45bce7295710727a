package health

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/cgroup"
)

// Enforcement says whether the kernel enforces the memory budget.
type Enforcement struct {
	Enforced bool   `json:"enforced"`
	Reason   string `json:"reason,omitempty"` // why not, e.g. "the kernel command line has cgroup_disable=memory"
	Fix      *Fix   `json:"fix,omitempty"`
}

// Fix is how to turn the memory controller on.
type Fix struct {
	// File is the file to edit (on the device, not under Rootfs), e.g.
	// /boot/firmware/cmdline.txt; "" when no edit can be named.
	File string `json:"file,omitempty"`
	// Append is the argument to append to the kernel command line ("" when
	// the command line already enables the controller).
	Append string `json:"append,omitempty"`
	Reboot bool   `json:"reboot"`
	Text   string `json:"text"` // the same in words
}

// enableMemory is what Raspberry Pi kernels need to turn the memory
// controller back on (cgroup_memory=1 is its legacy alias).
const enableMemory = "cgroup_enable=memory"

// checkControllers reports a memory controller that is off as a problem: the
// stack's promise is a budget the kernel enforces, and systemd drops
// MemoryMax= without a word when it cannot. A cpu controller that is off
// (no CPUQuota=) is a warning.
func (r *Report) checkControllers(o Options) {
	ctls, err := o.Cgroup.Detect()
	if err != nil {
		r.unknown("cgroup controllers: %v", err)
		return
	}
	r.Controllers = ctls
	r.MemoryBudget = &Enforcement{Enforced: true}
	for _, c := range ctls {
		switch {
		case c.Enabled:
		case c.Name == cgroup.Memory:
			fix := memoryFix(o.Rootfs, c)
			r.MemoryBudget = &Enforcement{Reason: c.Reason, Fix: &fix}
			r.problem("memory budget NOT enforced: the memory controller is off (%s), so systemd ignores MemoryMax= and MemoryHigh= and no memory is accounted", c.Reason)
		default:
			r.warn("%s", c.Warning())
		}
	}
}

// memoryFix names the boot file to edit for the memory controller that is
// off: /boot/firmware/cmdline.txt on Raspberry Pi OS bookworm and later,
// /boot/cmdline.txt on older images, /etc/default/grub elsewhere.
func memoryFix(rootfs string, memory cgroup.Controller) Fix {
	if rootfs == "" {
		rootfs = "/"
	}
	if memory.CmdlineEnabled() {
		return Fix{Text: "the kernel command line already has " + memory.Cmdline + ": this kernel lacks the memory controller (CONFIG_MEMCG); install a kernel that has it"}
	}
	for _, f := range []string{"/boot/firmware/cmdline.txt", "/boot/cmdline.txt"} {
		b, err := os.ReadFile(filepath.Join(rootfs, f))
		if err != nil {
			continue
		}
		if arg := cgroup.CmdlineSetting(string(b), cgroup.Memory); cgroup.CmdlineEnables(arg, cgroup.Memory) {
			return Fix{File: f, Reboot: true, Text: f + " already has " + arg + ": reboot to apply it"}
		}
		if bytes.Count(bytes.TrimSpace(b), []byte("\n")) > 0 {
			return Fix{File: f, Append: enableMemory, Reboot: true,
				Text: "append \" " + enableMemory + "\" to the kernel command line in " + f + " (keep it one line; it has several now), then reboot"}
		}
		return Fix{File: f, Append: enableMemory, Reboot: true,
			Text: "append \" " + enableMemory + "\" to the end of the single line of " + f + ", then reboot"}
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc/default/grub")); err == nil {
		return Fix{File: "/etc/default/grub", Append: enableMemory, Reboot: true,
			Text: "add " + enableMemory + " to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, then reboot"}
	}
	return Fix{Append: enableMemory, Reboot: true, Text: "append " + enableMemory + " to the kernel command line, then reboot"}
}

// fixCommand is the shell line that applies a cmdline.txt fix, for people
// who copy it; "" for other fixes.
func fixCommand(f Fix) string {
	if f.Append == "" || !strings.HasSuffix(f.File, "cmdline.txt") {
		return ""
	}
	return "sudo sed -i '1 s/$/ " + f.Append + "/' " + f.File + " && sudo reboot"
}
