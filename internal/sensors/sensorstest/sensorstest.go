// Package sensorstest generates synthetic sysfs trees for tests and
// scaling benchmarks of the sensors package.
package sensorstest

import (
	"fmt"
	"os"
	"path/filepath"
)

// PerChip is how many sensors WriteHwmonTree puts on one chip, roughly a
// Super I/O chip's worth.
const PerChip = 16

// WriteHwmonTree writes under dir a sysfs tree with n hwmon sensors spread
// over ceil(n/PerChip) platform chips, laid out as the kernel does:
// class/hwmon/hwmonK links to devices/platform/edgebench.K/hwmon/hwmonK,
// whose device link points back at the platform device. Even-numbered
// sensors are temperatures (tempN_input, m°C) and odd ones voltages
// (inN_input, mV), each with a label; all values are in range, so reading
// the tree yields exactly n readings and no errors.
func WriteHwmonTree(dir string, n int) error { return writeHwmonTree(dir, n, false) }

// WriteHwmonTreeWithLimits writes the tree of WriteHwmonTree with two limits
// per sensor, as chips commonly give them: tempN_max and tempN_crit for
// temperatures, inN_min and inN_max for voltages, all in range and never
// crossed by the reading.
func WriteHwmonTreeWithLimits(dir string, n int) error { return writeHwmonTree(dir, n, true) }

func writeHwmonTree(dir string, n int, limits bool) error {
	if n < 0 {
		return fmt.Errorf("negative sensor count %d", n)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bus", "platform"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "class", "hwmon"), 0o755); err != nil {
		return err
	}
	for chip := 0; chip*PerChip < n; chip++ {
		dev := filepath.Join("devices", "platform", fmt.Sprintf("edgebench.%d", chip))
		hw := filepath.Join(dev, "hwmon", fmt.Sprintf("hwmon%d", chip))
		if err := os.MkdirAll(filepath.Join(dir, hw), 0o755); err != nil {
			return err
		}
		links := map[string]string{
			filepath.Join(dir, dev, "subsystem"):                               "../../../bus/platform",
			filepath.Join(dir, hw, "device"):                                   "../../../" + filepath.Base(dev),
			filepath.Join(dir, "class", "hwmon", fmt.Sprintf("hwmon%d", chip)): "../../" + hw,
		}
		for link, target := range links {
			if err := os.Symlink(target, link); err != nil {
				return err
			}
		}
		files := chipFiles(chip, n, limits)
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, hw, name), []byte(content+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// chipFiles are the attribute files of one chip of the tree: its name and
// the sensors numbered from chip*PerChip below n.
func chipFiles(chip, n int, limits bool) map[string]string {
	files := map[string]string{"name": "edgebench"}
	for i := chip * PerChip; i < min(n, (chip+1)*PerChip); i++ {
		idx := i - chip*PerChip + 1
		if i%2 == 0 {
			files[fmt.Sprintf("temp%d_input", idx)] = fmt.Sprint(20000 + 250*i%60000)
			files[fmt.Sprintf("temp%d_label", idx)] = fmt.Sprintf("Sensor %d", i)
			if limits {
				files[fmt.Sprintf("temp%d_max", idx)] = "85000"
				files[fmt.Sprintf("temp%d_crit", idx)] = "100000"
			}
		} else {
			files[fmt.Sprintf("in%d_input", idx)] = fmt.Sprint(1000 + 10*i%20000)
			files[fmt.Sprintf("in%d_label", idx)] = fmt.Sprintf("Rail %d", i)
			if limits {
				files[fmt.Sprintf("in%d_min", idx)] = "500"
				files[fmt.Sprintf("in%d_max", idx)] = "30000"
			}
		}
	}
	return files
}
