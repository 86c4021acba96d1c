# Removes files older than $maxAgeDays from the machine and service temp folders.
# Files in use are skipped silently: they are someone's working set, not garbage.
$ErrorActionPreference = 'Continue'
$maxAgeDays = 7
$cutoff = (Get-Date).AddDays(-$maxAgeDays)
$folders = @($env:TEMP, (Join-Path $env:SystemRoot 'Temp')) | Where-Object { $_ -and (Test-Path $_) } | Select-Object -Unique
$freedBytes = 0
$removed = 0
foreach ($folder in $folders) {
    Get-ChildItem -Path $folder -Recurse -File -Force -ErrorAction SilentlyContinue |
        Where-Object { $_.LastWriteTime -lt $cutoff } |
        ForEach-Object {
            $size = $_.Length
            Remove-Item -LiteralPath $_.FullName -Force -ErrorAction SilentlyContinue
            if (-not (Test-Path -LiteralPath $_.FullName)) {
                $freedBytes += $size
                $removed += 1
            }
        }
}
Write-Output ('Removed {0} files, freed {1:N1} MB from {2}' -f $removed, ($freedBytes / 1MB), ($folders -join ', '))
exit 0
