Remove-Item $env:TEMP\* -Recurse -Force
