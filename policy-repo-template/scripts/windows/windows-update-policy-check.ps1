# Compliance check for windows-update-policy.ps1: exit 0 when every value matches, 1 otherwise.
$key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
$desired = @{
    NoAutoUpdate                  = 0
    AUOptions                     = 4
    ScheduledInstallDay           = 0
    ScheduledInstallTime          = 3
    NoAutoRebootWithLoggedOnUsers = 1
}
$values = Get-ItemProperty -Path $key -ErrorAction SilentlyContinue
if ($null -eq $values) { exit 1 }
foreach ($name in $desired.Keys) {
    if ($values.$name -ne $desired[$name]) {
        Write-Output "drift: $name is '$($values.$name)', expected $($desired[$name])"
        exit 1
    }
}
exit 0
