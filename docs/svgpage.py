"""The page every docs/ plot script writes: an SVG of the given size, white behind the drawn elements."""


def write(path, width, height, body):
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="Helvetica, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>'
           + "\n".join(body) + "</svg>\n")
    with open(path, "w") as f:
        f.write(svg)
