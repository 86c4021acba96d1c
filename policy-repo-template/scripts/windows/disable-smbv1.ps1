# Disables the SMBv1 server protocol and, where present, the SMB1Protocol optional feature.
$ErrorActionPreference = 'Stop'
if ((Get-SmbServerConfiguration).EnableSMB1Protocol) {
    Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force
    Write-Output 'SMBv1 server protocol disabled'
}
# Windows Server 2012 R2 and older have no optional feature by that name.
$feature = Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol -ErrorAction SilentlyContinue
if ($feature -and $feature.State -eq 'Enabled') {
    Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol -NoRestart | Out-Null
    Write-Output 'SMB1Protocol feature disabled; takes full effect after the next restart'
}
