# shellcheck shell=bash
# e2e checks: the device's own health, as the shipped alerts and the page's health summary see it.
# Sourced by test/e2e/run.sh with the other files of test/e2e/checks/.

DEVICE_DIR=/var/lib/edge-e2e-device
DEVICE_DROPIN=/run/systemd/system/edge-sensord.service.d/e2e-device.conf
DEVICE_ALERTS=EdgeFilesystemAlmostFull,EdgeSensorCriticalHigh,EdgeUndervoltageSinceBoot

# check_device_faults: three faults of the device itself, made in the guest: an ext4 filesystem
# filled past 90 %, a temperature over its chip's critical limit and a Raspberry Pi whose firmware
# says under-voltage has occurred since boot (edge-sensord reads test/fixtures/host/sys-throttled
# with a hot chip added, by a runtime drop-in). Each fires its shipped alert in the installed
# Prometheus, with its summary in words, and the page's health summary in Chromium lists it;
# undone, the stack is as before.
check_device_faults() {
	requires check_units
	local t0 a s img=$WORK/device-full.img
	need_tools mkfs.ext4:e2fsprogs
	tar -C "$REPO/test/fixtures/host/sys-throttled" -cf "$WORK/device-sys.tar" .
	truncate -s 8M "$img" && mkfs.ext4 -q -F "$img" || fail "mkfs.ext4 of $img failed"
	gexec mkdir -p "$DEVICE_DIR/sys" "$DEVICE_DIR/full" "${DEVICE_DROPIN%/*}"
	gput "$WORK/device-sys.tar" "$DEVICE_DIR/sys.tar"
	gput "$img" "$DEVICE_DIR/full.img"
	gput "$HERE/checks/device-dropin.conf" "$DEVICE_DROPIN"
	gexec sh -ec 'd=$1; tar -C $d/sys -xf $d/sys.tar; h=$d/sys/class/hwmon/hwmon7; mkdir $h
		echo e2e_hot >$h/name; echo SoC >$h/temp1_label; echo 95000 >$h/temp1_input; echo 85000 >$h/temp1_crit
		mount -o loop $d/full.img $d/full; dd if=/dev/zero of=$d/full/fill bs=64k 2>/dev/null || true
		systemctl daemon-reload; systemctl restart edge-sensord.service' sh "$DEVICE_DIR" ||
		fail "making the faults in the guest failed"
	t0=$SECONDS
	for a in ${DEVICE_ALERTS//,/ }; do
		wait_for 480 "$a firing" prom_query_is "count(ALERTS{alertname=\"$a\",alertstate=\"firing\"})" 1
	done
	s=$(gnet curl -sf "$PROM/api/v1/alerts" | jq -r --arg names "^(${DEVICE_ALERTS//,/|})$" \
		'.data.alerts[] | select(.state == "firing" and (.labels.alertname | test($names))) | .annotations.summary')
	grep -q "^$DEVICE_DIR/full on .* is 100% full$" <<<"$s" && grep -q '^hwmon_e2e_hot_temp1 (SoC) on .* reads 95 °C, at or above its critical limit$' <<<"$s" &&
		grep -q '^Under-voltage has occurred on .* since it booted$' <<<"$s" || fail "the alerts' summaries: $(tr '\n' '|' <<<"$s")"
	detail "fired_within=$((SECONDS - t0))s"
	browser_check "$DEVICE_ALERTS"
	gexec sh -ec 'd=$1; rm -f "$2"; systemctl daemon-reload; systemctl restart edge-sensord.service; umount $d/full; rm -rf $d' sh "$DEVICE_DIR" "$DEVICE_DROPIN" ||
		fail "undoing the faults in the guest failed"
	wait_for 60 "target edge-sensord up again" target_up edge-sensord
}
