#!/bin/sh
# mmdebstrap customize hook: build the NVIDIA kernel module for the image's own kernel, without
# leaving a compiler, kernel headers or DKMS in the image (docs/iso.md, "The NVIDIA driver").
#
# $1 is the finished root. The build happens in a throw-away copy of it: the same apt lists, so the
# kernel headers and the module source are exactly the versions of the kernel and nvidia-smi that
# are installed. Only the built modules come back, under /lib/modules/KVER/updates/dkms/ (where
# DKMS would put them; Debian's modprobe config names them nvidia-current*), then depmod.
set -eu
root="$1"
started=$(date +%s)
build="$root.nvidia-build"

kvers=$(ls "$root/lib/modules")
[ "$(echo "$kvers" | wc -w)" -eq 1 ] || { echo "nvidia-module: expected one kernel in $root/lib/modules, found: $kvers" >&2; exit 1; }
kver=$kvers
debver=$(chroot "$root" dpkg-query -W -f '${Version}' nvidia-smi)
upstream=${debver%%-*}

cleanup() {
  for m in sys proc dev; do umount "$build/$m" 2>/dev/null || true; done
  # Never into a mount that is still there (the host's /dev).
  rm -rf --one-file-system "$build"
}
trap cleanup EXIT
rm -rf "$build"
# -x: the root's own /dev, /proc and /sys mounts are not copied.
cp -ax "$root" "$build"
mount --bind /dev "$build/dev"
mount -t proc proc "$build/proc"
mount -t sysfs sysfs "$build/sys"
# apt runs inside the copy: it needs the host's resolver (the image's is systemd-resolved's stub).
rm -f "$build/etc/resolv.conf"
cp -L /etc/resolv.conf "$build/etc/resolv.conf"

echo "nvidia-module: building NVIDIA $upstream ($debver) for Linux $kver"
chroot "$build" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  "linux-headers-$kver" make
# The source from Debian's nvidia-kernel-dkms package, unpacked without DKMS itself.
chroot "$build" sh -c "cd /tmp && apt-get download nvidia-kernel-dkms=$debver && dpkg-deb -x nvidia-kernel-dkms_*.deb /tmp/nv"
src="/tmp/nv/usr/src/nvidia-current-$upstream"
jobs=$(nproc)
echo "nvidia-module: headers and source ready after $(($(date +%s) - started)) s; compiling with $jobs jobs"
chroot "$build" env NV_VERBOSE=0 make -C "$src" -j"$jobs" modules KERNEL_UNAME="$kver" >"$build/tmp/nvidia-make.log" 2>&1 || {
  tail -n 40 "$build/tmp/nvidia-make.log" >&2
  exit 1
}
dest="$root/lib/modules/$kver/updates/dkms"
mkdir -p "$dest"
for m in nvidia nvidia-modeset nvidia-drm nvidia-uvm nvidia-peermem; do
  ko="$build$src/$m.ko"
  [ -f "$ko" ] || { echo "nvidia-module: $m.ko was not built" >&2; exit 1; }
  name=$(echo "$m" | sed 's/^nvidia/nvidia-current/')
  # Debug sections are most of the size; the module itself is unchanged.
  chroot "$build" strip --strip-debug "$src/$m.ko"
  install -m 0644 "$ko" "$dest/$name.ko"
done
chroot "$root" depmod "$kver"
echo "nvidia-module: installed $(ls "$dest" | tr '\n' ' ')in $(($(date +%s) - started)) s"
