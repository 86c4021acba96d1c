/* eventcreate.exe stand-in (tests only, never shipped): Wine has no eventcreate.exe, so the Wine
 * suite puts this in its prefix's system32. It appends its own command line, one per line, to
 * eventcreate.log beside itself and exits 0, as the real one does after writing the event. What the
 * real one does with the arguments (Application log, source registration) only real Windows shows. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

int main(void) {
  wchar_t log[MAX_PATH + 16];
  DWORD n = GetModuleFileNameW(NULL, log, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return 1;
  wcscpy(log + n - 4, L".log"); /* eventcreate.exe -> eventcreate.log */
  FILE *out = _wfopen(log, L"a, ccs=UTF-8");
  if (!out) return 1;
  fwprintf(out, L"%ls\n", GetCommandLineW());
  fclose(out);
  return 0;
}
