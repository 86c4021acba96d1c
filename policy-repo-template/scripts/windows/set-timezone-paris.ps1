# Sets the Paris office time zone. Idempotent: does nothing when the zone is already right.
$ErrorActionPreference = 'Stop'
$target = 'Romance Standard Time'
$current = (Get-TimeZone).Id
if ($current -eq $target) {
    Write-Output "Time zone already $target"
    exit 0
}
Set-TimeZone -Id $target
Write-Output "Time zone changed from $current to $target"
