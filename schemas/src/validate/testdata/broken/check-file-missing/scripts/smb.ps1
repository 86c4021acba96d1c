Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force
