echo clean
