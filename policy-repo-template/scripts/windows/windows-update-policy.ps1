# Writes the Windows Update group-policy values (the same keys "Configure Automatic Updates" sets).
# Keep $desired in step with windows-update-policy-check.ps1.
$ErrorActionPreference = 'Stop'
$key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
$desired = [ordered]@{
    NoAutoUpdate                  = 0 # automatic updates on
    AUOptions                     = 4 # download automatically and schedule the install
    ScheduledInstallDay           = 0 # every day
    ScheduledInstallTime          = 3 # at 03:00
    NoAutoRebootWithLoggedOnUsers = 1 # never reboot under a signed-in user
}
if (-not (Test-Path $key)) {
    New-Item -Path $key -Force | Out-Null
}
foreach ($name in $desired.Keys) {
    $current = (Get-ItemProperty -Path $key -Name $name -ErrorAction SilentlyContinue).$name
    if ($current -ne $desired[$name]) {
        Set-ItemProperty -Path $key -Name $name -Value $desired[$name] -Type DWord
        Write-Output "$name`: $current -> $($desired[$name])"
    }
}
