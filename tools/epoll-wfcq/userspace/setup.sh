#!/bin/sh
# Run in the guest's root (chroot) when the image is made. The user epw
# (uid 1000) logs in on the serial console. A fixed machine-id: without
# one, every boot of the snapshot is a first boot and systemd-firstboot
# asks questions on the console.
set -eu
useradd -m -u 1000 -s /bin/bash epw
passwd -d root >/dev/null
echo epw-guest >/etc/hostname
echo 6e1b0c5a3f7d4b1e9a2c8d0f4e6b2a10 >/etc/machine-id
echo '/dev/vda / ext4 rw 0 0' >/etc/fstab
ln -sf /lib/systemd/system/multi-user.target /etc/systemd/system/default.target
systemctl enable epw-userspace.service epw-echo.socket
