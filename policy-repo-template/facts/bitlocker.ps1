# Prints BitLocker status as one JSON object. Get-BitLockerVolume needs administrator rights (the
# agent service has them); without the BitLocker module the fact reports available = false.
$ErrorActionPreference = 'Stop'
$volumes = @()
if (Get-Command Get-BitLockerVolume -ErrorAction SilentlyContinue) {
    $volumes = @(Get-BitLockerVolume | ForEach-Object {
        [ordered]@{
            mount_point        = $_.MountPoint
            protection         = "$($_.ProtectionStatus)"
            volume_status      = "$($_.VolumeStatus)"
            encryption_percent = [int]$_.EncryptionPercentage
            method             = "$($_.EncryptionMethod)"
        }
    })
}
$osVolume = $volumes | Where-Object { $_.mount_point -eq $env:SystemDrive } | Select-Object -First 1
[ordered]@{
    available           = $volumes.Count -gt 0
    os_volume_protected = [bool]($osVolume -and $osVolume.protection -eq 'On')
    volumes             = $volumes
} | ConvertTo-Json -Compress -Depth 4
