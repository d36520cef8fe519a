# scale (capability catalog; keys must match the other language's file)
scale-next-page = صفحهٔ بعد
