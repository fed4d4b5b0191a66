vigil-bundle 1
sender vk1:0000

